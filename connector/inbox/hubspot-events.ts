import type { Logger } from 'pino'
import { findRecordRecipient } from '../contacts/crm-record-repository.ts'
import type { Transaction } from '../db/database.ts'
import { erasePerson } from '../people/person-data.ts'
import { requestDigest } from '../security/request-digest.ts'
import { recordCrmConsentChange } from '../writeback/consent-writebacks.ts'
import { consentFromCrmValue } from '../segments/consent-value.ts'

// Applies stored HubSpot contact webhooks (an array of events per delivery, reference hubspot.md
// §6): a change of the consent property on a contact the connector knows becomes a consent event
// from HubSpot. The connector's own writes come back as changes with changeSource INTEGRATION and
// sourceId = our app id; those are echoes, not decisions, and are skipped. A
// contact.privacyDeletion (GDPR delete in HubSpot) erases that contact's person here too.

export interface HubSpotContactEvent {
  eventId?: number | string
  portalId?: number | string
  appId?: number | string
  occurredAt?: number
  subscriptionType?: string
  objectId?: number | string
  propertyName?: string
  propertyValue?: string
  changeSource?: string
  sourceId?: string
}

export function hubspotInboxHandler(deps: { consentProperty: string; appId: string | undefined; log: Logger; onEvent?: (kind: string, detail: string) => void }) {
  return async (tx: Transaction, items: Array<{ body: unknown; receivedAt: Date }>): Promise<void> => {
    for (const { body, receivedAt } of items) {
      if (!Array.isArray(body)) throw new Error('a HubSpot webhook body is a JSON array of events')
      for (const e of body as HubSpotContactEvent[]) await applyEvent(tx, e, receivedAt, deps)
    }
  }
}

async function applyEvent(tx: Transaction, e: HubSpotContactEvent, receivedAt: Date, deps: { consentProperty: string; appId: string | undefined; log: Logger; onEvent?: (kind: string, detail: string) => void }): Promise<void> {
  if (e.subscriptionType === 'contact.privacyDeletion') return privacyDeletion(tx, e, deps)
  if (e.subscriptionType !== 'contact.propertyChange' || e.propertyName !== deps.consentProperty) {
    deps.onEvent?.('hubspot', e.subscriptionType ?? 'unknown')
    return
  }
  if (e.changeSource === 'INTEGRATION' && deps.appId && String(e.sourceId) === deps.appId) {
    deps.onEvent?.('hubspot', 'echo')
    return
  }
  const state = consentFromCrmValue(e.propertyValue)
  if (!state) return
  const known = await findRecordRecipient(tx, { crm: 'hubspot', accountId: String(e.portalId), objectType: 'contact', recordId: String(e.objectId) })
  if (!known) {
    // A contact in no synced segment has no WhatsApp number here yet; its next sync reads the property.
    deps.onEvent?.('hubspot', 'unknown_contact')
    return
  }
  // A change that loses to the ledger (older than a STOP) is kept as evidence and the record is set back.
  await recordCrmConsentChange(tx, {
    phone: known.phone,
    installationId: known.installationId,
    record: { objectType: 'contact', recordId: String(e.objectId) },
    state,
    source: 'crm_hubspot_webhook',
    evidence: { eventId: e.eventId ?? null, property: e.propertyName, value: e.propertyValue ?? null, changeSource: e.changeSource ?? null, objectId: String(e.objectId) },
    occurredAt: e.occurredAt ? new Date(e.occurredAt) : receivedAt,
    // A redelivery repeats the eventId; an event without one is told apart by what it says.
    dedupeKey: `hs-event:${e.portalId}:${e.eventId ?? `content:${requestDigest(e)}`}`,
  })
  deps.onEvent?.('hubspot', 'consent')
}

/** Erases the person behind the contact, in the inbox's transaction; a contact never read here has nothing to erase. */
async function privacyDeletion(tx: Transaction, e: HubSpotContactEvent, deps: { log: Logger; onEvent?: (kind: string, detail: string) => void }): Promise<void> {
  const known = await findRecordRecipient(tx, { crm: 'hubspot', accountId: String(e.portalId), objectType: 'contact', recordId: String(e.objectId) })
  if (!known) {
    deps.onEvent?.('hubspot', 'privacy_deletion_unknown_contact')
    return
  }
  const erased = await erasePerson(tx, { phone: known.phone })
  deps.log.info({ portalId: String(e.portalId), erased }, 'HubSpot privacy deletion: person erased')
  deps.onEvent?.('hubspot', 'privacy_deletion')
}
