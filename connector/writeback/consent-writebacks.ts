import type { ConsentWrite } from '../../crm-adapters/crm-adapter.ts'
import {
  consentStatusByInstallation, currentConsentsOfKeys, recordConsentEvent, type ConsentEventInput, type ConsentState, type ConsentStatus,
} from '../consent/consent-ledger.ts'
import { recordsOfRecipient } from '../contacts/crm-record-repository.ts'
import type { Queryable } from '../db/database.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'
import { insertWritebacks, type Writeback } from './writeback-repository.ts'

type CrmRecordRef = Awaited<ReturnType<typeof recordsOfRecipient>>[number]

// Consent changes the connector learns (WhatsApp signals, the admin API) written back to every CRM
// record of the person, through the outbox. A record is written the person's current state as the
// ledger decides it when the write goes, never the state one event carried.

export const CONSENT_KIND = 'consent'

export interface ConsentPayload {
  state: ConsentState
  source: string
  phone: string
}

/**
 * Enqueues one write per CRM record of the event's person, in the event's installation or, for a
 * WhatsApp signal (no installation), in every installation, but only in the installations whose
 * current state the event changed (`before`: each one's state before it was recorded): a late or
 * repeated event changes nothing, so it writes nothing. Call it in the event's transaction.
 */
async function enqueueConsentWritebacks(db: Queryable, e: ConsentEventInput, records: CrmRecordRef[], before: Map<string, ConsentStatus>): Promise<number> {
  const phone = e.phone
  const matchKey = whatsappMatchKey(phone)
  const after = await consentStatusByInstallation(db, phone, [...before.keys()])
  const changed = records.filter((r) => after.get(r.installationId) !== before.get(r.installationId))
  const payload: ConsentPayload = { state: e.state, source: e.source, phone }
  return insertWritebacks(db, changed.map((r) => ({
    ...r,
    kind: CONSENT_KIND,
    payload: { ...payload },
    matchKey,
    occurredAt: e.occurredAt,
    dedupeKey: e.dedupeKey ? `${e.dedupeKey}|${r.installationId}:${r.objectType}:${r.recordId}` : null,
  })))
}

/**
 * Records a consent event and, when it is new and changes a current state, enqueues its
 * write-backs in the same transaction. What reaches the CRM is decided again when it is written
 * (withCurrentConsent): events recorded concurrently, or a CRM change since, cannot make a record
 * disagree with the ledger.
 */
export async function recordConsentAndWriteBack(tx: Queryable, e: ConsentEventInput): Promise<boolean> {
  // Records are found by phone; a person known only by WhatsApp user id has none the connector can name yet.
  const records = e.phone ? await recordsOfRecipient(tx, whatsappMatchKey(e.phone), e.installationId ? [e.installationId] : null) : []
  const before = records.length ? await consentStatusByInstallation(tx, e.phone, [...new Set(records.map((r) => r.installationId))]) : new Map<string, ConsentStatus>()
  const recorded = await recordConsentEvent(tx, e)
  if (recorded && records.length) await enqueueConsentWritebacks(tx, e, records, before)
  return recorded
}

/**
 * Records a change the CRM reports on one of its records and, when the ledger's current state for
 * that installation is then not what the record says (an older CRM change arriving after a STOP),
 * enqueues a write of the current state to that record, so the CRM does not go on disagreeing.
 * Call it in the event's transaction.
 */
export async function recordCrmConsentChange(tx: Queryable, e: ConsentEventInput & { installationId: string; record: { objectType: 'contact' | 'lead'; recordId: string } }): Promise<boolean> {
  const recorded = await recordConsentEvent(tx, e)
  if (!recorded) return false
  const current = (await consentStatusByInstallation(tx, e.phone, [e.installationId])).get(e.installationId)
  if (current !== undefined && current !== 'unknown' && current !== e.state) {
    const payload: ConsentPayload = { state: current, source: e.source, phone: e.phone }
    await insertWritebacks(tx, [{
      installationId: e.installationId, objectType: e.record.objectType, recordId: e.record.recordId, kind: CONSENT_KIND,
      payload: { ...payload }, matchKey: whatsappMatchKey(e.phone), occurredAt: e.occurredAt,
      dedupeKey: e.dedupeKey ? `${e.dedupeKey}|realign` : null,
    }])
  }
  return true
}

/**
 * The claimed writes of one installation as each record should be written now: the person's
 * current state under the ledger's rule, read for the whole batch in one statement, with the
 * source time and source of the event that decides it. Null for a write whose person has no
 * state any more (nothing to write).
 */
export async function withCurrentConsent<W extends Writeback>(db: Queryable, installationId: string, writes: readonly W[]): Promise<Array<W | null>> {
  const current = await currentConsentsOfKeys(db, writes.flatMap((w) => (w.matchKey ? [w.matchKey] : [])), installationId)
  return writes.map((w) => {
    const c = w.matchKey ? current.get(w.matchKey) : undefined
    if (!c) return null
    const payload: ConsentPayload = { ...(w.payload as unknown as ConsentPayload), state: c.state, source: c.source }
    return { ...w, occurredAt: c.occurredAt, payload: { ...payload } }
  })
}

export function toConsentWrite(w: Writeback): ConsentWrite {
  const p = w.payload as unknown as ConsentPayload
  return { recordId: w.recordId, objectType: w.objectType, optedIn: p.state === 'opted_in', occurredAt: w.occurredAt, source: p.source, phone: p.phone }
}

/** At equal source times an opt-out wins (when in doubt, don't message). */
export function consentWins(a: Writeback, b: Writeback): boolean {
  return (a.payload as unknown as ConsentPayload).state === 'opted_out' && (b.payload as unknown as ConsentPayload).state !== 'opted_out'
}
