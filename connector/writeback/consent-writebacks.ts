import type { ConsentWrite } from '../../crm-adapters/crm-adapter.ts'
import { recordConsentEvent, type ConsentEventInput, type ConsentState } from '../consent/consent-ledger.ts'
import { recordsOfRecipient } from '../contacts/crm-record-repository.ts'
import type { Queryable } from '../db/database.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'
import { insertWritebacks, type Writeback } from './writeback-repository.ts'

// Consent changes the connector learns (WhatsApp signals, the admin API) written back to every CRM
// record of the person, through the outbox.

export const CONSENT_KIND = 'consent'

export interface ConsentPayload {
  state: ConsentState
  source: string
  phone: string
}

/**
 * Enqueues one write per CRM record of the event's person, in the event's installation or, for a
 * WhatsApp signal (no installation), in every installation; call it in the event's transaction.
 */
export async function enqueueConsentWritebacks(db: Queryable, e: ConsentEventInput): Promise<number> {
  // Records are found by phone; a person known only by WhatsApp user id has none the connector can name yet.
  const phone = e.phone
  if (!phone) return 0
  const matchKey = whatsappMatchKey(phone)
  const records = await recordsOfRecipient(db, matchKey, e.installationId ? [e.installationId] : null)
  const payload: ConsentPayload = { state: e.state, source: e.source, phone }
  return insertWritebacks(db, records.map((r) => ({
    ...r,
    kind: CONSENT_KIND,
    payload: { ...payload },
    matchKey,
    occurredAt: e.occurredAt,
    dedupeKey: e.dedupeKey ? `${e.dedupeKey}|${r.installationId}:${r.objectType}:${r.recordId}` : null,
  })))
}

/** Records a consent event and, when it is new, enqueues its write-backs in the same transaction. */
export async function recordConsentAndWriteBack(tx: Queryable, e: ConsentEventInput): Promise<boolean> {
  const recorded = await recordConsentEvent(tx, e)
  if (recorded) await enqueueConsentWritebacks(tx, e)
  return recorded
}

export function toConsentWrite(w: Writeback): ConsentWrite {
  const p = w.payload as unknown as ConsentPayload
  return { recordId: w.recordId, objectType: w.objectType, optedIn: p.state === 'opted_in', occurredAt: w.occurredAt, source: p.source, phone: p.phone }
}

/** At equal source times an opt-out wins (when in doubt, don't message). */
export function consentWins(a: Writeback, b: Writeback): boolean {
  return (a.payload as unknown as ConsentPayload).state === 'opted_out' && (b.payload as unknown as ConsentPayload).state !== 'opted_out'
}
