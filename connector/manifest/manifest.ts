import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { readFileSync } from 'node:fs'
import type { EngagementKind } from '../../crm-adapters/crm-adapter.ts'

// manifest.json (repository root) is the app's registration in one place: CRM scopes, contact
// properties, webhook subscriptions, engagement event types, the workflow action, the app card and
// the Salesforce package's fields. The connector, scripts/generate-hubspot-project.ts and
// scripts/provision.ts each load it once where they start (loadManifest) and pass the Manifest on,
// as they do Config; there is no process-wide copy. It holds URL *paths*; full URLs are the
// connector's PUBLIC_URL plus a path (absoluteUrl). Domain code: no Fastify here.

// ---------------------------------------------------------------------------------------------
// Schema

const NonEmpty = Type.String({ minLength: 1 })
/** A connector route, e.g. "/hubspot/actions/send-whatsapp". */
const Path = Type.String({ pattern: '^/[A-Za-z0-9._~/-]*$' })
/** HubSpot project component uid: up to 64 of letters, digits, `_`, `-`, `.`. */
const Uid = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })
/** HubSpot internal names (properties, input fields, event properties): lowercase with underscores. */
const InternalName = Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 100 })
const HttpsUrl = Type.String({ pattern: '^https://[^\\s]+$' })
const Literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)))
/**
 * Whether the connector serves this entry's routes yet. A CRM-side package may declare a route
 * before it is built; false keeps it out of connectorRoutes, whose every route the app must serve.
 */
const Served = Type.Boolean()

const Option = Type.Object(
  { label: NonEmpty, value: NonEmpty, displayOrder: Type.Optional(Type.Integer()), description: Type.Optional(Type.String()) },
  { additionalProperties: false },
)

const HubSpotProperty = Type.Object(
  {
    name: InternalName,
    label: NonEmpty,
    description: Type.Optional(Type.String()),
    type: Literals(['string', 'number', 'date', 'datetime', 'enumeration', 'bool'] as const),
    fieldType: Literals(['text', 'textarea', 'date', 'select', 'radio', 'checkbox', 'booleancheckbox', 'number', 'phonenumber'] as const),
    options: Type.Optional(Type.Array(Option, { minItems: 1 })),
  },
  { additionalProperties: false },
)

const WebhookSubscription = Type.Object(
  {
    eventType: Type.String({ pattern: '^(contact|company|deal|ticket|object|conversation)\\.[A-Za-z]+$' }),
    propertyName: Type.Optional(InternalName),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const ENGAGEMENT_KIND_ORDER: Readonly<Record<EngagementKind, number>> = {
  sent: 0,
  delivered: 1,
  read: 2,
  replied: 3,
  failed: 4,
  opted_out: 5,
  opted_in: 6,
}
/** Every engagement kind, in timeline order; each has exactly one event type in the manifest. */
export const ENGAGEMENT_KINDS = Object.keys(ENGAGEMENT_KIND_ORDER) as EngagementKind[]

/** Types both the app-events schema and the legacy timeline tokens accept. */
const EventPropertyType = Literals(['string', 'number', 'date', 'enumeration'] as const)

const EventProperty = Type.Object(
  { name: InternalName, label: NonEmpty, type: EventPropertyType, options: Type.Optional(Type.Array(Option, { minItems: 1 })) },
  { additionalProperties: false },
)

const EngagementEvent = Type.Object(
  {
    kind: Literals(ENGAGEMENT_KINDS),
    /** The app event's uid (and the connector's name for the event type). */
    name: Uid,
    /** Shown in HubSpot; up to 50 characters, fixed once the event type exists. */
    label: Type.String({ minLength: 1, maxLength: 50 }),
    headerTemplate: Type.String({ minLength: 1, maxLength: 1000 }),
    detailTemplate: Type.String({ minLength: 1, maxLength: 10000 }),
    properties: Type.Array(EventProperty, { minItems: 1, maxItems: 500 }),
  },
  { additionalProperties: false },
)

const ActionFieldType = Literals(['string', 'number', 'bool', 'date', 'datetime', 'enumeration', 'phone_number'] as const)

const TypeDefinition = Type.Object(
  {
    name: InternalName,
    type: ActionFieldType,
    fieldType: Type.Optional(Literals(['text', 'textarea', 'number', 'select', 'booleancheckbox', 'date', 'phonenumber'] as const)),
    options: Type.Optional(Type.Array(Option, { minItems: 1 })),
    /** Connector route HubSpot calls to fill the dropdown; becomes `optionsUrl`. */
    optionsPath: Type.Optional(Path),
    referencedObjectType: Type.Optional(NonEmpty),
    label: Type.Optional(NonEmpty),
    description: Type.Optional(Type.String()),
    helpText: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)

const ActionLabels = Type.Object(
  {
    actionName: NonEmpty,
    actionDescription: Type.Optional(Type.String()),
    appDisplayName: Type.Optional(Type.String()),
    actionCardContent: Type.Optional(Type.String()),
    inputFieldLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    inputFieldDescriptions: Type.Optional(Type.Record(Type.String(), Type.String())),
    inputFieldOptionLabels: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String(), Type.String()))),
    outputFieldLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    executionRules: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
)

const WorkflowAction = Type.Object(
  {
    uid: Uid,
    path: Path,
    /** Covers the action URL and its inputs' optionsPath routes. */
    served: Served,
    published: Type.Boolean(),
    objectTypes: Type.Array(Literals(['CONTACT', 'COMPANY', 'DEAL', 'TICKET'] as const), { minItems: 1 }),
    objectRequestOptions: Type.Optional(Type.Object({ properties: Type.Array(InternalName) }, { additionalProperties: false })),
    inputFields: Type.Array(
      Type.Object(
        {
          typeDefinition: TypeDefinition,
          supportedValueTypes: Type.Array(Literals(['STATIC_VALUE', 'OBJECT_PROPERTY', 'FIELD_DATA', 'FETCHED_OBJECT_PROPERTY'] as const), { minItems: 1 }),
          isRequired: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
    inputFieldDependencies: Type.Optional(
      Type.Array(
        Type.Object(
          {
            dependencyType: Literals(['SINGLE_FIELD', 'CONDITIONAL_SINGLE_FIELD'] as const),
            controllingFieldName: InternalName,
            dependentFieldNames: Type.Array(InternalName, { minItems: 1 }),
            controllingFieldValue: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    outputFields: Type.Optional(Type.Array(Type.Object({ typeDefinition: TypeDefinition }, { additionalProperties: false }))),
    labels: Type.Record(Type.String({ pattern: '^[a-z]{2}(-[a-z]{2})?$' }), ActionLabels),
  },
  { additionalProperties: false },
)

const Card = Type.Object(
  {
    uid: Uid,
    path: Path,
    served: Served,
    name: NonEmpty,
    description: Type.Optional(Type.String()),
    location: Literals(['crm.record.tab', 'crm.record.sidebar', 'crm.preview', 'helpdesk.sidebar'] as const),
    objectTypes: Type.Array(Literals(['contacts', 'companies', 'deals', 'tickets'] as const), { minItems: 1 }),
    entrypoint: Type.String({ pattern: '^/app/cards/[A-Za-z0-9_-]+\\.(tsx|jsx)$' }),
  },
  { additionalProperties: false },
)

const SalesforceApiName = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$', maxLength: 80 })
export const SALESFORCE_FIELD_OBJECTS = ['Contact', 'Lead', 'Activity'] as const

const SalesforceField = Type.Object(
  {
    object: Literals(SALESFORCE_FIELD_OBJECTS),
    fullName: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*__c$', maxLength: 43 }),
    label: Type.String({ minLength: 1, maxLength: 40 }),
    type: Literals(['Checkbox', 'DateTime', 'Text', 'Phone'] as const),
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    defaultValue: Type.Optional(Type.Boolean()),
    externalId: Type.Optional(Type.Boolean()),
    unique: Type.Optional(Type.Boolean()),
    caseSensitive: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
)

export const ManifestSchema = Type.Object(
  {
    manifestVersion: Type.Literal(1),
    app: Type.Object(
      {
        uid: Uid,
        name: Type.String({ minLength: 1, maxLength: 200 }),
        description: Type.String({ minLength: 1, maxLength: 8192 }),
        supportEmail: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' }),
        documentationUrl: Type.Optional(HttpsUrl),
        supportUrl: Type.Optional(HttpsUrl),
        supportPhone: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    hubspot: Type.Object(
      {
        project: Type.Object(
          {
            name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' }),
            platformVersion: Type.String({ pattern: '^\\d{4}\\.\\d{1,2}$' }),
            distribution: Literals(['marketplace', 'private'] as const),
          },
          { additionalProperties: false },
        ),
        oauth: Type.Object({ redirectPath: Path }, { additionalProperties: false }),
        requiredScopes: Type.Array(NonEmpty, { minItems: 1 }),
        optionalScopes: Type.Array(NonEmpty),
        properties: Type.Object(
          {
            group: Type.Object({ name: InternalName, label: NonEmpty, displayOrder: Type.Integer() }, { additionalProperties: false }),
            consentProperty: InternalName,
            /** When consent last changed (a datetime property). */
            consentDateProperty: InternalName,
            /** Where the last consent change came from (a text property). */
            consentSourceProperty: InternalName,
            /** The WhatsApp business-scoped user id (a text property). */
            userIdProperty: InternalName,
            phoneProperties: Type.Array(InternalName, { minItems: 1 }),
            contact: Type.Array(HubSpotProperty, { minItems: 1 }),
          },
          { additionalProperties: false },
        ),
        webhooks: Type.Object(
          {
            path: Path,
            maxConcurrentRequests: Type.Integer({ minimum: 5, maximum: 1000 }),
            subscriptions: Type.Array(WebhookSubscription, { minItems: 1 }),
          },
          { additionalProperties: false },
        ),
        engagementEvents: Type.Array(EngagementEvent),
        workflowActions: Type.Array(WorkflowAction),
        cards: Type.Array(Card),
      },
      { additionalProperties: false },
    ),
    salesforce: Type.Object(
      {
        apiVersion: Type.String({ pattern: '^\\d{2}\\.0$' }),
        scopes: Type.Array(NonEmpty, { minItems: 1 }),
        oauth: Type.Object({ redirectPath: Path }, { additionalProperties: false }),
        consentField: Type.String({ pattern: '__c$' }),
        /** When consent last changed; a DateTime field of Contact and Lead. */
        consentDateField: Type.String({ pattern: '__c$' }),
        /** The WhatsApp business-scoped user id; a Text field of Contact and Lead. */
        userIdField: Type.String({ pattern: '__c$' }),
        customFields: Type.Array(SalesforceField, { minItems: 1 }),
        namedCredential: Type.Object(
          {
            name: SalesforceApiName,
            label: NonEmpty,
            externalCredential: SalesforceApiName,
            principal: SalesforceApiName,
            keyHeader: Type.String({ pattern: '^[A-Za-z0-9-]+$' }),
            keyParameter: SalesforceApiName,
          },
          { additionalProperties: false },
        ),
        permissionSet: Type.Object(
          { name: SalesforceApiName, label: NonEmpty, description: Type.Optional(Type.String()), apexClasses: Type.Array(SalesforceApiName, { minItems: 1 }) },
          { additionalProperties: false },
        ),
        invocableAction: Type.Object(
          { apexClass: SalesforceApiName, path: Path, served: Served, maxRequestsPerCallout: Type.Integer({ minimum: 1, maximum: 2000 }) },
          { additionalProperties: false },
        ),
        lightningComponents: Type.Array(
          Type.Object(
            { name: Type.String({ pattern: '^[a-z][A-Za-z0-9]*$' }), controller: SalesforceApiName, objects: Type.Array(Literals(['Contact', 'Lead'] as const), { minItems: 1 }) },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)

export type Manifest = Static<typeof ManifestSchema>
export type HubSpotWebhookSubscription = Manifest['hubspot']['webhooks']['subscriptions'][number]
export type EngagementEventType = Manifest['hubspot']['engagementEvents'][number]
export type WorkflowActionManifest = Manifest['hubspot']['workflowActions'][number]
export type WorkflowInputField = WorkflowActionManifest['inputFields'][number]

// ---------------------------------------------------------------------------------------------
// Loading and validation

export class ManifestError extends Error {
  readonly problems: string[]
  constructor(source: string, problems: string[]) {
    super(`${source} is invalid:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ManifestError'
    this.problems = problems
  }
}

/** manifest.json at the repository root. */
export const DEFAULT_MANIFEST_PATH = new URL('../../manifest.json', import.meta.url)

/** Reads and validates a manifest file; throws ManifestError listing every problem. */
export function loadManifest(path: string | URL = DEFAULT_MANIFEST_PATH): Manifest {
  const source = typeof path === 'string' ? path : path.pathname
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new ManifestError(source, [`cannot read it as JSON: ${(error as Error).message}`])
  }
  return parseManifest(json, source)
}

/** Validates an already-parsed manifest (schema, then cross-references); throws ManifestError. */
export function parseManifest(json: unknown, source = 'manifest.json'): Manifest {
  const problems = schemaProblems(ManifestSchema, json)
  if (problems.length > 0) throw new ManifestError(source, problems)
  const manifest = json as Manifest
  const semantic = semanticProblems(manifest)
  if (semantic.length > 0) throw new ManifestError(source, semantic)
  return manifest
}

function schemaProblems(schema: TSchema, value: unknown): string[] {
  return [...Value.Errors(schema, value)].map((e) => `${e.path || '/'}: ${e.message}`)
}

const TEMPLATE_HELPERS = new Set(['if', 'unless', 'each', 'with', 'else', 'formatDate', 'this'])
const TEMPLATE_BUILTINS = new Set(['timestamp', 'objectId', 'objectType', 'id', 'eventTypeName', 'extraData', 'format'])

/** Property names a Handlebars template refers to (helpers and HubSpot's built-in fields left out). */
export function templateReferences(template: string): string[] {
  const names = new Set<string>()
  for (const match of template.matchAll(/\{\{\{?\s*([^}]*?)\s*\}?\}\}/g)) {
    const words = (match[1] ?? '').replace(/^[#/^]/, '').split(/\s+/)
    for (const word of words) {
      const name = word.split(/[.[=]/)[0] ?? ''
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !TEMPLATE_HELPERS.has(name) && !TEMPLATE_BUILTINS.has(name)) names.add(name)
    }
  }
  return [...names]
}

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>()
  const dup = new Set<string>()
  for (const v of values) (seen.has(v) ? dup : seen).add(v)
  return [...dup]
}

function semanticProblems(m: Manifest): string[] {
  const problems: string[] = []
  const hs = m.hubspot
  const required = new Set(hs.requiredScopes)

  // Scopes: declare each once, required xor optional, and everything the declared features need.
  for (const d of duplicates([...hs.requiredScopes, ...hs.optionalScopes])) problems.push(`hubspot scope ${d} is declared twice (required and optional scopes must not overlap)`)
  const needs: [boolean, string, string][] = [
    [true, 'oauth', 'every OAuth app'],
    [hs.webhooks.subscriptions.some((s) => s.eventType.startsWith('contact.')), 'crm.objects.contacts.read', 'contact webhook subscriptions'],
    [hs.engagementEvents.length > 0, 'timeline', 'app events (HubSpot requires it in requiredScopes)'],
    [hs.workflowActions.length > 0, 'automation', 'completing workflow action callbacks'],
    [hs.properties.contact.length > 0, 'crm.schemas.contacts.write', 'creating the contact properties'],
  ]
  for (const [applies, scope, why] of needs) if (applies && !required.has(scope)) problems.push(`hubspot.requiredScopes must include ${scope} (needed for ${why})`)
  if (hs.project.distribution === 'marketplace' && hs.optionalScopes.includes('oauth')) problems.push('hubspot scope oauth must be required')

  // Properties.
  const propertyNames = hs.properties.contact.map((p) => p.name)
  for (const d of duplicates(propertyNames)) problems.push(`hubspot contact property ${d} is declared twice`)
  for (const p of hs.properties.contact) {
    if (p.type === 'enumeration' && !p.options) problems.push(`hubspot contact property ${p.name} is an enumeration without options`)
    if (p.type !== 'enumeration' && p.options) problems.push(`hubspot contact property ${p.name} has options but is not an enumeration`)
  }
  for (const key of ['consentProperty', 'consentDateProperty', 'consentSourceProperty', 'userIdProperty'] as const) {
    const name = hs.properties[key]
    if (!propertyNames.includes(name)) problems.push(`hubspot.properties.${key} ${name} is not one of the declared contact properties`)
  }
  const userIdProperty = hs.properties.contact.find((p) => p.name === hs.properties.userIdProperty)
  if (userIdProperty && userIdProperty.type !== 'string') problems.push(`hubspot.properties.userIdProperty ${userIdProperty.name} must be a string property`)

  // Webhooks: consent and phone changes must reach the connector.
  const subscriptionKeys = hs.webhooks.subscriptions.map(subscriptionKey)
  for (const d of duplicates(subscriptionKeys)) problems.push(`hubspot webhook subscription ${d} is declared twice`)
  for (const s of hs.webhooks.subscriptions) {
    const isPropertyChange = s.eventType.endsWith('.propertyChange')
    if (isPropertyChange && !s.propertyName) problems.push(`hubspot webhook subscription ${s.eventType} needs a propertyName`)
    if (!isPropertyChange && s.propertyName) problems.push(`hubspot webhook subscription ${s.eventType} must not have a propertyName`)
  }
  const watched = new Set(hs.webhooks.subscriptions.filter((s) => s.eventType === 'contact.propertyChange').map((s) => s.propertyName))
  for (const name of [hs.properties.consentProperty, ...hs.properties.phoneProperties]) {
    if (!watched.has(name)) problems.push(`hubspot webhooks need a contact.propertyChange subscription on ${name}`)
  }

  // Engagement events: exactly one per kind; templates only use declared properties.
  for (const kind of ENGAGEMENT_KINDS) {
    const count = hs.engagementEvents.filter((e) => e.kind === kind).length
    if (count !== 1) problems.push(`hubspot.engagementEvents must declare engagement kind ${kind} exactly once (found ${count})`)
  }
  for (const d of duplicates(hs.engagementEvents.map((e) => e.name))) problems.push(`hubspot engagement event name ${d} is used twice`)
  for (const d of duplicates(hs.engagementEvents.map((e) => e.label))) problems.push(`hubspot engagement event label ${d} is used twice`)
  for (const event of hs.engagementEvents) {
    const declared = new Set(event.properties.map((p) => p.name))
    for (const d of duplicates(event.properties.map((p) => p.name))) problems.push(`engagement event ${event.name}: property ${d} is declared twice`)
    for (const p of event.properties) {
      if (p.type === 'enumeration' && !p.options) problems.push(`engagement event ${event.name}: enumeration property ${p.name} needs options`)
    }
    for (const [which, template] of [['headerTemplate', event.headerTemplate], ['detailTemplate', event.detailTemplate]] as const) {
      for (const ref of templateReferences(template)) {
        if (!declared.has(ref)) problems.push(`engagement event ${event.name}: ${which} refers to {{${ref}}}, which is not one of its properties`)
      }
    }
  }

  // Workflow actions.
  for (const d of duplicates(hs.workflowActions.map((a) => a.uid))) problems.push(`hubspot workflow action uid ${d} is used twice`)
  for (const action of hs.workflowActions) {
    const inputs = action.inputFields.map((f) => f.typeDefinition.name)
    const outputs = (action.outputFields ?? []).map((f) => f.typeDefinition.name)
    for (const d of duplicates(inputs)) problems.push(`workflow action ${action.uid}: input field ${d} is declared twice`)
    for (const d of duplicates(outputs)) problems.push(`workflow action ${action.uid}: output field ${d} is declared twice`)
    for (const field of action.inputFields) {
      const t = field.typeDefinition
      if (t.type === 'enumeration' && !t.options && !t.optionsPath) problems.push(`workflow action ${action.uid}: enumeration input ${t.name} needs options or an optionsPath`)
      if (t.type !== 'enumeration' && (t.options || t.optionsPath)) problems.push(`workflow action ${action.uid}: input ${t.name} has options but is not an enumeration`)
    }
    for (const dep of action.inputFieldDependencies ?? []) {
      for (const name of [dep.controllingFieldName, ...dep.dependentFieldNames]) {
        if (!inputs.includes(name)) problems.push(`workflow action ${action.uid}: dependency refers to unknown input field ${name}`)
      }
    }
    if (!action.labels.en) problems.push(`workflow action ${action.uid}: labels.en is required`)
    for (const [locale, labels] of Object.entries(action.labels)) {
      for (const name of Object.keys({ ...labels.inputFieldLabels, ...labels.inputFieldDescriptions })) {
        if (!inputs.includes(name)) problems.push(`workflow action ${action.uid}: labels.${locale} names unknown input field ${name}`)
      }
      for (const name of Object.keys(labels.outputFieldLabels ?? {})) {
        if (!outputs.includes(name)) problems.push(`workflow action ${action.uid}: labels.${locale} names unknown output field ${name}`)
      }
      for (const ref of templateReferences(labels.actionCardContent ?? '')) {
        if (!inputs.includes(ref)) problems.push(`workflow action ${action.uid}: actionCardContent refers to unknown input field {{${ref}}}`)
      }
    }
    const requested = new Set(action.objectRequestOptions?.properties ?? [])
    if (action.objectTypes.includes('CONTACT')) {
      for (const name of [hs.properties.consentProperty, ...hs.properties.phoneProperties]) {
        if (!requested.has(name)) problems.push(`workflow action ${action.uid}: objectRequestOptions.properties must include ${name}`)
      }
    }
  }

  // Cards.
  for (const d of duplicates(hs.cards.map((c) => c.uid))) problems.push(`hubspot card uid ${d} is used twice`)
  const uids = [m.app.uid, ...hs.engagementEvents.map((e) => e.name), ...hs.workflowActions.map((a) => a.uid), ...hs.cards.map((c) => c.uid), 'webhooks']
  for (const d of duplicates(uids)) problems.push(`uid ${d} is used by two HubSpot project components (uids must be unique in the project)`)

  // Salesforce.
  const sf = m.salesforce
  for (const d of duplicates(sf.customFields.map((f) => `${f.object}.${f.fullName}`))) problems.push(`salesforce field ${d} is declared twice`)
  for (const f of sf.customFields) {
    const where = `salesforce field ${f.object}.${f.fullName}`
    if (f.type === 'Text' && f.length === undefined) problems.push(`${where}: Text fields need a length`)
    if (f.type !== 'Text' && (f.length !== undefined || f.externalId || f.unique || f.caseSensitive)) problems.push(`${where}: length, externalId, unique and caseSensitive apply to Text fields only`)
    if (f.type === 'Checkbox' && f.defaultValue === undefined) problems.push(`${where}: Checkbox fields need a defaultValue`)
    if (f.type !== 'Checkbox' && f.defaultValue !== undefined) problems.push(`${where}: defaultValue applies to Checkbox fields only`)
  }
  const personFields = (object: string) => sf.customFields.filter((f) => f.object === object).map((f) => `${f.fullName}:${f.type}`).sort()
  if (JSON.stringify(personFields('Contact')) !== JSON.stringify(personFields('Lead'))) problems.push('salesforce Contact and Lead must carry the same WhatsApp fields (same names and types)')
  for (const [key, type] of [['consentField', 'Checkbox'], ['consentDateField', 'DateTime'], ['userIdField', 'Text']] as const) {
    for (const object of ['Contact', 'Lead'] as const) {
      if (!sf.customFields.some((f) => f.object === object && f.fullName === sf[key] && f.type === type)) problems.push(`salesforce.${key} ${sf[key]} is not a ${type} field of ${object}`)
    }
  }
  // The connector upserts Tasks on it (salesforceMessageIdField), so there must be exactly one.
  const activityIds = sf.customFields.filter((f) => f.object === 'Activity' && f.externalId).length
  if (activityIds !== 1) problems.push(`salesforce.customFields must declare exactly one external id field on Activity (found ${activityIds})`)
  if (!sf.permissionSet.apexClasses.includes(sf.invocableAction.apexClass)) problems.push(`salesforce.permissionSet.apexClasses must include ${sf.invocableAction.apexClass}`)
  for (const c of sf.lightningComponents) {
    if (!sf.permissionSet.apexClasses.includes(c.controller)) problems.push(`salesforce.permissionSet.apexClasses must include ${c.controller} (controller of ${c.name})`)
  }
  return problems
}

function subscriptionKey(s: HubSpotWebhookSubscription): string {
  return s.propertyName ? `${s.eventType}:${s.propertyName}` : s.eventType
}

// ---------------------------------------------------------------------------------------------
// Derived values (callers read plain declarations from the Manifest they were given)

/** PUBLIC_URL + path, without doubled or missing slashes. */
export function absoluteUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
}

/** One event type per engagement kind, in timeline order (sent … opted_in). */
export function engagementEventTypes(m: Manifest): EngagementEventType[] {
  return [...m.hubspot.engagementEvents].sort((a, b) => ENGAGEMENT_KIND_ORDER[a.kind] - ENGAGEMENT_KIND_ORDER[b.kind])
}

export interface ConnectorRoute {
  crm: 'hubspot' | 'salesforce'
  method: 'GET' | 'POST'
  path: string
  caller: string
}

/**
 * The connector routes the CRM-side packages call and the manifest claims are served (entries
 * with `served: false` are left out); the app must serve every one (test/integration/manifest-routes.test.ts).
 */
export function connectorRoutes(m: Manifest): ConnectorRoute[] {
  const hs = m.hubspot
  const actions = hs.workflowActions.filter((a) => a.served)
  const optionPaths = new Set(actions.flatMap((a) => a.inputFields.flatMap((f) => (f.typeDefinition.optionsPath ? [f.typeDefinition.optionsPath] : []))))
  const invocable = m.salesforce.invocableAction
  return [
    { crm: 'hubspot', method: 'GET', path: hs.oauth.redirectPath, caller: 'HubSpot OAuth redirect' },
    { crm: 'hubspot', method: 'POST', path: hs.webhooks.path, caller: 'HubSpot webhooks' },
    ...actions.map((a): ConnectorRoute => ({ crm: 'hubspot', method: 'POST', path: a.path, caller: `workflow action ${a.uid}` })),
    ...[...optionPaths].map((path): ConnectorRoute => ({ crm: 'hubspot', method: 'POST', path, caller: 'workflow action input options' })),
    ...hs.cards.filter((c) => c.served).map((c): ConnectorRoute => ({ crm: 'hubspot', method: 'GET', path: c.path, caller: `app card ${c.uid}` })),
    { crm: 'salesforce', method: 'GET', path: m.salesforce.oauth.redirectPath, caller: 'Salesforce OAuth redirect' },
    ...(invocable.served ? [{ crm: 'salesforce', method: 'POST', path: invocable.path, caller: `Apex ${invocable.apexClass}` } satisfies ConnectorRoute] : []),
  ]
}

/** The external id field on Activity the connector upserts engagement Tasks on (exactly one; see semanticProblems). */
export function salesforceMessageIdField(m: Manifest): string {
  const field = m.salesforce.customFields.find((f) => f.object === 'Activity' && f.externalId)
  if (!field) throw new Error('manifest has no external id field on Activity')
  return field.fullName
}
