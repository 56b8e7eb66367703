// Which API versions the simulated api.hubapi.com serves, and how it refuses numbered ones.
import { errorBody } from './api-error.ts'

/** Date versions served by the CRM, app-event, webhook and workflow-action routes. */
export const SERVED_VERSIONS = ['2026-03', '2026-09'] as const
export type ServedVersion = (typeof SERVED_VERSIONS)[number]

/**
 * Numbered paths that have a date-versioned replacement (reference hubspot.md §0). The legacy
 * timeline v3 (`/integrators/timeline/v3/…`) has none, so it is still served.
 */
const REPLACED = /^\/(crm\/v\d+|automation\/v\d+|webhooks\/v\d+|integrators\/timeline\/v4|communication-preferences\/v\d+|oauth\/v\d+)(\/|$)/

export function isReplacedNumberedPath(path: string): boolean {
  return REPLACED.test(path)
}

/**
 * What HubSpot answers once it removes an API: 404 (its sunset notices say the removed endpoints
 * "begin returning a 404 error", https://developers.hubspot.com/changelog/upcoming-sunset-v1-lists-api),
 * with its usual error body.
 */
export function replacedPathBody(method: string, path: string): Record<string, unknown> {
  return errorBody('OBJECT_NOT_FOUND', `${method} ${path} is a numbered API version HubSpot no longer serves; call its date-versioned path (e.g. /2026-03/).`)
}
