import type { ConsentState } from '../consent/consent-ledger.ts'

// Reads a CRM opt-in property: HubSpot checkboxes and Salesforce booleans arrive as "true"/"false";
// enumerations often say yes/no or opted in/out. Empty means the CRM says nothing.

const IN = new Set(['true', 'yes', 'y', '1', 'opted_in', 'opted in', 'optin', 'opt_in', 'subscribed', 'granted'])
const OUT = new Set(['false', 'no', 'n', '0', 'opted_out', 'opted out', 'optout', 'opt_out', 'unsubscribed', 'not_subscribed', 'revoked', 'denied'])

export function consentFromCrmValue(value: string | null | undefined): ConsentState | undefined {
  if (value === null || value === undefined) return undefined
  const v = value.trim().toLowerCase()
  if (IN.has(v)) return 'opted_in'
  if (OUT.has(v)) return 'opted_out'
  return undefined
}
