import type { ConsentStatus } from './consent-ledger.ts'

// Who may be sent a template, by its category and the recipient's current consent: marketing only
// to people who opted in; utility and authentication to anyone who has not opted out.

export type ConsentRefusal = 'RECIPIENT_OPTED_OUT' | 'CONSENT_REQUIRED'

export const REFUSAL_MESSAGES: Record<ConsentRefusal, string> = {
  RECIPIENT_OPTED_OUT: 'The recipient has opted out of WhatsApp messages',
  CONSENT_REQUIRED: 'A marketing template needs the recipient\'s opt-in, and none is recorded',
}

/**
 * Why this send is not allowed, or undefined when it is. `category` is the template's as Graph
 * reported it; a template the connector has never synced (or one without a category) counts as
 * marketing, the safe side: sending it needs an opt-in.
 */
export function consentRefusal(category: string | null | undefined, state: ConsentStatus): ConsentRefusal | undefined {
  if (state === 'opted_out') return 'RECIPIENT_OPTED_OUT'
  const c = category?.toUpperCase()
  const marketing = c !== 'UTILITY' && c !== 'AUTHENTICATION'
  return marketing && state !== 'opted_in' ? 'CONSENT_REQUIRED' : undefined
}
