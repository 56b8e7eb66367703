// Which HubSpot API version each area is called on, in one table, and the calls that have no
// date-versioned path yet. HubSpot stops supporting the numbered v4 APIs on 2027-03-30 and v1–v3
// in September 2027 (https://developers.hubspot.com/changelog/legacy-apis-and-legacy-apps-whats-going-unsupported-and-when);
// date versions ship every March and September and stay supported for 18 months
// (https://developers.hubspot.com/docs/developer-tooling/platform/versioning). Moving an area to a
// newer version is one line here; from 2026-09 on, CRM writes also face the portal's validation
// rules (https://developers.hubspot.com/changelog/crm-api-write-validation-enforcement).

/** Date version (`YYYY-MM`) per API area. */
export const HUBSPOT_API_VERSIONS = {
  /** `/crm/lists/{v}/…`: list search, get, memberships. */
  lists: '2026-03',
  /** `/crm/objects/{v}/contacts/…`: batch read and update, search. */
  objects: '2026-03',
  /** `/crm/objects/{v}/communications/…`: WhatsApp messages on the timeline. */
  communications: '2026-03',
  /** `/crm/properties/{v}/…` */
  properties: '2026-03',
  /** `/integrators/timeline/{v}/…`: app event occurrences. */
  appEvents: '2026-03',
  /** `/webhooks/{v}/{appId}/…`: app webhook settings and subscriptions (provisioning). */
  webhooks: '2026-03',
  /** `/automation/actions/{v}/{appId}/…`: workflow action definitions (provisioning). */
  automationActions: '2026-03',
  /** `/oauth/{v}/token…`: token, introspect, revoke. */
  oauth: '2026-03',
} as const satisfies Record<string, string>

export type HubSpotApiArea = keyof typeof HUBSPOT_API_VERSIONS
export type HubSpotApiVersions = Record<HubSpotApiArea, string>

/** Where each area puts its version segment (paths per reference hubspot.md §0). */
const PREFIX: Record<HubSpotApiArea, (version: string) => string> = {
  lists: (v) => `/crm/lists/${v}`,
  objects: (v) => `/crm/objects/${v}`,
  communications: (v) => `/crm/objects/${v}/communications`,
  properties: (v) => `/crm/properties/${v}`,
  appEvents: (v) => `/integrators/timeline/${v}`,
  webhooks: (v) => `/webhooks/${v}`,
  automationActions: (v) => `/automation/actions/${v}`,
  oauth: (v) => `/oauth/${v}`,
}

/** The table with `overrides` applied (e.g. one area tried on `2026-09`). */
export function apiVersions(overrides: Partial<HubSpotApiVersions> = {}): HubSpotApiVersions {
  return { ...HUBSPOT_API_VERSIONS, ...overrides }
}

/** `hubspotPath(versions, 'lists', '/search')` → `/crm/lists/2026-03/search`. */
export function hubspotPath(versions: HubSpotApiVersions, area: HubSpotApiArea, rest = ''): string {
  return PREFIX[area](versions[area]) + rest
}

/** True from the version on which HubSpot enforces portal validation rules on CRM writes. */
export function enforcesWriteValidation(version: string): boolean {
  return version >= '2026-09'
}

/**
 * Calls with no date-versioned path yet (reference hubspot.md §0), each with the date HubSpot
 * stops supporting it. Nothing else may use a numbered path.
 */
export const HUBSPOT_UNVERSIONED_CALLS = {
  /** Legacy timeline event templates (provision --legacy-timeline); replaced by app events defined in the project. */
  legacyTimelineTemplates: {
    path: '/integrators/timeline/v3/{appId}/event-templates',
    /** v1–v3 go unsupported in September 2027; HubSpot names no day. */
    unsupportedFrom: '2027-09',
  },
} as const

/** An unversioned call's path with its `{name}` placeholders filled. */
export function unversionedPath(call: keyof typeof HUBSPOT_UNVERSIONED_CALLS, params: Record<string, string>): string {
  return HUBSPOT_UNVERSIONED_CALLS[call].path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''))
}
