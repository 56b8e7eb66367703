import { installationsWithRecipient } from '../contacts/contact-repository.ts'
import { findWhatsAppUserById, userIdsForPhone } from '../contacts/whatsapp-user-repository.ts'
import type { Queryable } from '../db/database.ts'
import { installationsByIds } from '../installations/installation-repository.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'
import { consentWritebacksOf } from '../writeback/writeback-views.ts'
import { consentHistory, consentStatusByInstallation, currentState, installationsWithConsent, type Person } from './consent-ledger.ts'

// One person's consent as the audit API shows it: the trail, the state, and the state in each
// installation the person belongs to (a synced record, or consent events of its own there). The
// person is named by phone or by WhatsApp business-scoped user id; each finds the other once linked.

export type PersonQuery = { phone: string; userId?: undefined } | { userId: string; phone?: undefined }

/** The phone and WhatsApp user a query names, as far as the connector has linked them. */
export async function resolvePerson(db: Queryable, q: PersonQuery): Promise<{ phone?: string; userId?: string; person: Person }> {
  if (q.phone !== undefined) {
    const userId = (await userIdsForPhone(db, q.phone))[0]?.userId
    return { phone: q.phone, ...(userId ? { userId } : {}), person: { phone: q.phone } }
  }
  const user = await findWhatsAppUserById(db, q.userId)
  // An unknown user id has no events yet; NULL user ref and phone make an empty person.
  if (!user) return { userId: q.userId, person: {} }
  return { ...(user.phone ? { phone: user.phone } : {}), userId: user.userId, person: { phone: user.phone, whatsappUserId: user.id } }
}

export async function consentRecord(db: Queryable, q: PersonQuery, installationId: string | undefined) {
  const { person, ...names } = await resolvePerson(db, q)
  const events = person.phone || person.whatsappUserId ? await consentHistory(db, person, installationId) : []
  const ids = new Set([
    ...(person.phone ? await installationsWithRecipient(db, whatsappMatchKey(person.phone)) : []),
    ...(events.length ? await installationsWithConsent(db, person) : []),
  ])
  const known = (await installationsByIds(db, [...ids])).filter((i) => installationId === undefined || i.id === installationId)
  const states = await consentStatusByInstallation(db, person, known.map((i) => i.id))
  const writebacks = person.phone ? await consentWritebacksOf(db, whatsappMatchKey(person.phone), installationId) : []
  const installations = known.map((i) => ({ installationId: i.id, crm: i.crm, accountId: i.accountId, state: states.get(i.id) ?? 'unknown', writebacks: writebacks.filter((w) => w.installationId === i.id) }))
  return { ...names, state: currentState(events), events, writebacks, installations }
}
