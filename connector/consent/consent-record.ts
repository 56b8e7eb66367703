import { installationsWithRecipient } from '../contacts/contact-repository.ts'
import type { Queryable } from '../db/database.ts'
import { installationsByIds } from '../installations/installation-repository.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'
import { consentWritebacksOf } from '../writeback/writeback-views.ts'
import { consentHistory, consentStatusByInstallation, currentState, installationsWithConsent } from './consent-ledger.ts'

// One person's consent as the audit API shows it: the trail, the state, and the state in each
// installation the number belongs to (a synced record, or consent events of its own there).

export async function consentRecord(db: Queryable, phone: string, installationId: string | undefined) {
  const key = whatsappMatchKey(phone)
  const events = await consentHistory(db, phone, installationId)
  const ids = new Set([...(await installationsWithRecipient(db, key)), ...(await installationsWithConsent(db, key))])
  const known = (await installationsByIds(db, [...ids])).filter((i) => installationId === undefined || i.id === installationId)
  const states = await consentStatusByInstallation(db, phone, known.map((i) => i.id))
  const writebacks = await consentWritebacksOf(db, key, installationId)
  const installations = known.map((i) => ({ installationId: i.id, crm: i.crm, accountId: i.accountId, state: states.get(i.id) ?? 'unknown', writebacks: writebacks.filter((w) => w.installationId === i.id) }))
  return { phone, state: currentState(events), events, writebacks, installations }
}
