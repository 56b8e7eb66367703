import { resolvePerson, type PersonQuery } from '../consent/consent-record.ts'
import { consentEventsOfPerson, hashConsentIdentities, type Person } from '../consent/consent-ledger.ts'
import { contactsOfMatchKey, deleteContacts } from '../contacts/contact-repository.ts'
import { crmRecordsOfContacts, deleteCrmRecordsOfContacts } from '../contacts/crm-record-repository.ts'
import { eraseWhatsAppUsers, whatsAppUsersOfPerson } from '../contacts/whatsapp-user-repository.ts'
import type { Queryable } from '../db/database.ts'
import { deleteHandledBodiesNaming } from '../inbox/inbox-repository.ts'
import { deleteInboundMessagesFrom, inboundMessagesFrom } from '../messages/inbound-message-repository.ts'
import { eraseMessagesToRecipients, messagesToRecipients } from '../messages/message-repository.ts'
import { matchKeyVariants, whatsappMatchKey } from '../phones/whatsapp-id.ts'
import { deleteMembershipsOfRecords, membershipsOfRecords } from '../segments/membership-repository.ts'
import { deleteWritebacksOfMatchKey, writebacksOfMatchKey } from '../writeback/writeback-repository.ts'
import { writebackView } from '../writeback/writeback-views.ts'
import { personHashReady } from './person-hash-key.ts'

// A person's data on request (GDPR access and erasure), composed from each table's owner. The
// person is named by phone or WhatsApp user id, as for the consent audit; what the connector holds
// is found through the phone's match key, the person's WhatsApp users and the identifiers WhatsApp
// reports them by (wa_ids in every form, user ids).

export class PersonHashKeyMissingError extends Error {
  readonly code = 'ERASURE_KEY_MISSING'
  constructor() {
    super('The erasure hash key is not set up (it is written when the connector starts)')
    this.name = 'PersonHashKeyMissingError'
  }
}

interface Identity {
  names: { phone?: string; userId?: string }
  person: Person
  matchKey: string | null
  userRows: Awaited<ReturnType<typeof whatsAppUsersOfPerson>>
  /** wa_ids and user ids, as messages, inbound messages and webhook bodies name the person. */
  waIds: string[]
  userIds: string[]
}

async function identify(db: Queryable, q: PersonQuery): Promise<Identity> {
  const { person, ...names } = await resolvePerson(db, q)
  const matchKey = person.phone ? whatsappMatchKey(person.phone) : null
  const userRows = matchKey || person.whatsappUserId ? await whatsAppUsersOfPerson(db, matchKey, person.whatsappUserId ?? null) : []
  const phones = new Set([...(person.phone ? [person.phone] : []), ...userRows.flatMap((u) => (u.phone ? [u.phone] : []))])
  const userIds = new Set([...(q.userId ? [q.userId] : []), ...userRows.flatMap((u) => (u.userId.startsWith('erased:') ? [] : [u.userId, ...(u.parentUserId ? [u.parentUserId] : [])]))])
  return { names, person, matchKey, userRows, waIds: [...new Set([...phones].flatMap(matchKeyVariants))], userIds: [...userIds] }
}

/** Everything the connector holds about one person; a person never seen has empty sections. */
export async function exportPerson(db: Queryable, q: PersonQuery) {
  const id = await identify(db, q)
  const contacts = id.matchKey ? await contactsOfMatchKey(db, id.matchKey) : []
  const crmRecords = await crmRecordsOfContacts(db, contacts.map((c) => c.id))
  return {
    ...id.names,
    whatsappUsers: id.userRows.map((u) => ({ businessPortfolioId: u.businessPortfolioId, userId: u.userId, parentUserId: u.parentUserId, phone: u.phone, username: u.username })),
    contacts,
    crmRecords,
    segmentMemberships: await membershipsOfRecords(db, crmRecords),
    consentEvents: id.person.phone || id.person.whatsappUserId ? await consentEventsOfPerson(db, id.person) : [],
    messages: await messagesToRecipients(db, [...id.waIds, ...id.userIds]),
    inboundMessages: await inboundMessagesFrom(db, id.waIds, id.userIds),
    writebacks: id.matchKey ? (await writebacksOfMatchKey(db, id.matchKey)).map((w) => writebackView(w, undefined)) : [],
  }
}

export interface ErasureCounts {
  consentEvents: number
  whatsappUsers: number
  contacts: number
  crmRecords: number
  segmentMemberships: number
  messages: number
  inboundMessages: number
  inboxBodies: number
  writebacks: number
}

/**
 * Erases a person: names, copied properties, CRM records and memberships, message bodies,
 * inbound messages and the handled webhook bodies naming them, their pending CRM writes and their
 * WhatsApp identities; the consent log keeps their events under person_hash, so an opt-out still
 * holds for the same phone or user id. Run it in one transaction (`db` is one).
 */
export async function erasePerson(db: Queryable, q: PersonQuery): Promise<ErasureCounts> {
  if (!(await personHashReady(db))) throw new PersonHashKeyMissingError()
  const id = await identify(db, q)
  const contacts = id.matchKey ? await contactsOfMatchKey(db, id.matchKey) : []
  const contactIds = contacts.map((c) => c.id)
  const records = await crmRecordsOfContacts(db, contactIds)
  // The ledger finds events through the person's WhatsApp users, so it goes before they are erased.
  const consentEvents = id.person.phone || id.person.whatsappUserId ? await hashConsentIdentities(db, id.person) : 0
  const segmentMemberships = await deleteMembershipsOfRecords(db, records)
  const crmRecords = await deleteCrmRecordsOfContacts(db, contactIds)
  return {
    consentEvents,
    segmentMemberships,
    crmRecords,
    contacts: await deleteContacts(db, contactIds),
    writebacks: id.matchKey ? await deleteWritebacksOfMatchKey(db, id.matchKey) : 0,
    messages: await eraseMessagesToRecipients(db, [...id.waIds, ...id.userIds]),
    inboundMessages: await deleteInboundMessagesFrom(db, id.waIds, id.userIds),
    inboxBodies: await deleteHandledBodiesNaming(db, [...id.waIds, ...id.userIds]),
    whatsappUsers: await eraseWhatsAppUsers(db, id.userRows.filter((u) => !u.userId.startsWith('erased:')).map((u) => u.id)),
  }
}
