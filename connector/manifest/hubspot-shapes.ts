import {
  absoluteUrl,
  type EngagementEventType,
  type Manifest,
  type WorkflowActionManifest,
  type WorkflowInputField,
} from './manifest.ts'

// manifest.json → the shapes HubSpot takes, both as developer-project files (*-hsmeta.json, platform
// 2026.03 or newer) and as app-level API bodies (developer API key: webhooks and automation actions
// on their date-versioned paths, legacy timeline v3 templates). One place, so the generated project
// and `npm run provision` can't drift.

type Json = Record<string, unknown>

function typeDefinition(field: Pick<WorkflowInputField, 'typeDefinition'>, publicUrl: string): Json {
  const { optionsPath, ...rest } = field.typeDefinition
  return { ...rest, ...(optionsPath ? { optionsUrl: absoluteUrl(publicUrl, optionsPath) } : {}) }
}

/** Fields shared by the workflow action definition body and the workflow-action hsmeta config. */
function actionCommon(action: WorkflowActionManifest, publicUrl: string): Json {
  return {
    actionUrl: absoluteUrl(publicUrl, action.path),
    objectTypes: action.objectTypes,
    ...(action.objectRequestOptions ? { objectRequestOptions: action.objectRequestOptions } : {}),
    inputFields: action.inputFields.map((f) => ({ typeDefinition: typeDefinition(f, publicUrl), supportedValueTypes: f.supportedValueTypes, isRequired: f.isRequired })),
    ...(action.inputFieldDependencies ? { inputFieldDependencies: action.inputFieldDependencies } : {}),
    ...(action.outputFields ? { outputFields: action.outputFields.map((f) => ({ typeDefinition: typeDefinition(f, publicUrl) })) } : {}),
    labels: action.labels,
  }
}

/** Body of POST/PATCH /automation/actions/{version}/{appId} (PublicActionDefinitionEgg). */
export function workflowActionDefinition(action: WorkflowActionManifest, publicUrl: string): Json {
  return { ...actionCommon(action, publicUrl), published: action.published, functions: [] }
}

/** src/app/workflow-actions/<uid>-hsmeta.json */
export function workflowActionHsmeta(action: WorkflowActionManifest, publicUrl: string): Json {
  const { actionUrl, ...rest } = actionCommon(action, publicUrl)
  return {
    uid: action.uid,
    type: 'workflow-action',
    config: { actionUrl, isPublished: action.published, supportedClients: [{ client: 'WORKFLOWS' }], ...rest },
  }
}

/** PUT /webhooks/{version}/{appId}/settings */
export function webhookSettingsRequest(m: Manifest, publicUrl: string): { targetUrl: string; throttling: { maxConcurrentRequests: number } } {
  return { targetUrl: absoluteUrl(publicUrl, m.hubspot.webhooks.path), throttling: { maxConcurrentRequests: m.hubspot.webhooks.maxConcurrentRequests } }
}

export interface SubscriptionRequest {
  eventType: string
  propertyName?: string
  active: boolean
}

/** POST /webhooks/{version}/{appId}/subscriptions, one per manifest subscription. */
export function webhookSubscriptionRequests(m: Manifest): SubscriptionRequest[] {
  return m.hubspot.webhooks.subscriptions.map((s) => ({ eventType: s.eventType, ...(s.propertyName ? { propertyName: s.propertyName } : {}), active: s.active ?? true }))
}

/** Which list of the (2025.2+) webhooks component a subscription type belongs to. */
export function webhookSubscriptionGroup(eventType: string): 'crmObjects' | 'legacyCrmObjects' | 'hubEvents' {
  if (eventType.startsWith('object.')) return 'crmObjects'
  if (eventType === 'contact.privacyDeletion' || eventType.startsWith('conversation.')) return 'hubEvents'
  return 'legacyCrmObjects'
}

/** src/app/webhooks/webhooks-hsmeta.json */
export function webhooksHsmeta(m: Manifest, publicUrl: string): Json {
  const groups: Record<'crmObjects' | 'legacyCrmObjects' | 'hubEvents', Json[]> = { crmObjects: [], legacyCrmObjects: [], hubEvents: [] }
  for (const s of webhookSubscriptionRequests(m)) {
    groups[webhookSubscriptionGroup(s.eventType)].push({ subscriptionType: s.eventType, ...(s.propertyName ? { propertyName: s.propertyName } : {}), active: s.active })
  }
  const settings = webhookSettingsRequest(m, publicUrl)
  return {
    uid: 'webhooks',
    type: 'webhooks',
    config: {
      settings: { targetUrl: settings.targetUrl, maxConcurrentRequests: settings.throttling.maxConcurrentRequests },
      subscriptions: Object.fromEntries(Object.entries(groups).filter(([, list]) => list.length > 0)),
    },
  }
}

/** src/app/app-events/<kind>-hsmeta.json (app events; HubSpot must approve them for the app). */
export function appEventHsmeta(event: EngagementEventType): Json {
  return {
    uid: event.name,
    type: 'app-event',
    config: {
      name: event.label,
      objectType: 'CONTACT',
      headerTemplate: event.headerTemplate,
      detailTemplate: event.detailTemplate,
      properties: event.properties.map((p) => ({ name: p.name, label: p.label, type: p.type, ...(p.options ? { options: p.options } : {}) })),
    },
  }
}

/** POST/PUT /integrators/timeline/v3/{appId}/event-templates (apps that already have v1/v3 templates). */
export function timelineEventTemplate(event: EngagementEventType): Json {
  return {
    name: event.label,
    objectType: 'contacts',
    headerTemplate: event.headerTemplate,
    detailTemplate: event.detailTemplate,
    tokens: event.properties.map((p) => ({ name: p.name, label: p.label, type: p.type, ...(p.options ? { options: p.options.map((o) => ({ label: o.label, value: o.value })) } : {}) })),
  }
}

/** src/app/app-hsmeta.json */
export function appHsmeta(m: Manifest, publicUrl: string): Json {
  const support = {
    supportEmail: m.app.supportEmail,
    ...(m.app.documentationUrl ? { documentationUrl: m.app.documentationUrl } : {}),
    ...(m.app.supportUrl ? { supportUrl: m.app.supportUrl } : {}),
    ...(m.app.supportPhone ? { supportPhone: m.app.supportPhone } : {}),
  }
  return {
    uid: m.app.uid,
    type: 'app',
    config: {
      name: m.app.name,
      description: m.app.description,
      distribution: m.hubspot.project.distribution,
      auth: {
        type: 'oauth',
        redirectUrls: [absoluteUrl(publicUrl, m.hubspot.oauth.redirectPath)],
        requiredScopes: m.hubspot.requiredScopes,
        optionalScopes: m.hubspot.optionalScopes,
        conditionallyRequiredScopes: [],
      },
      // hubspot.fetch() from the app card may only call URLs listed here.
      permittedUrls: { fetch: [publicUrl.replace(/\/+$/, '')], iframe: [], img: [] },
      support,
    },
  }
}

/** src/app/cards/<uid>-hsmeta.json */
export function cardHsmeta(card: Manifest['hubspot']['cards'][number]): Json {
  return {
    uid: card.uid,
    type: 'card',
    config: {
      name: card.name,
      ...(card.description ? { description: card.description } : {}),
      location: card.location,
      entrypoint: card.entrypoint,
      objectTypes: card.objectTypes,
    },
  }
}

/**
 * Oldest developer platform the project may target: 2026.03 is the version the connector is built
 * and tested on (reference hubspot.md §9; older versions go unsupported 18 months after release,
 * https://developers.hubspot.com/docs/developer-tooling/platform/versioning).
 */
export const MIN_PLATFORM_VERSION = '2026.03'

/** hsproject.json */
export function hsproject(m: Manifest): Json {
  const version = m.hubspot.project.platformVersion
  if (platformOrder(version) < platformOrder(MIN_PLATFORM_VERSION)) {
    throw new Error(`hubspot.project.platformVersion ${version} is older than ${MIN_PLATFORM_VERSION}, the oldest platform this project targets`)
  }
  return { name: m.hubspot.project.name, srcDir: 'src', platformVersion: version }
}

/** `2026.03` → 202603, `2025.2` → 202502. */
function platformOrder(version: string): number {
  const [year = 0, release = 0] = version.split('.').map(Number)
  return year * 100 + release
}
