import type { Queryable } from '../db/database.ts'

// crm_records: the CRM records the connector has read, each linked to its WhatsApp recipient
// (contacts) when its phone is usable. This module is the only one that writes the table; readers
// elsewhere compose recordRecipientsSql instead of joining it themselves.

export type PhoneStatus = 'ok' | 'missing' | 'invalid' | 'fixed_line'

export interface CrmRecordInput {
  objectType: string
  recordId: string
  contactId: string | null
  phoneStatus: PhoneStatus
  consentValue: string | null
  properties: Record<string, unknown>
  crmUpdatedAt: string | null
}

/** Upserts one page of records in one statement. */
export async function upsertCrmRecords(db: Queryable, installationId: string, records: readonly CrmRecordInput[]): Promise<void> {
  if (!records.length) return
  await db.query(
    `INSERT INTO crm_records (installation_id, object_type, record_id, contact_id, phone_status, consent_value, properties, crm_updated_at)
     SELECT $1, t, i, c::uuid, s, v, pr::jsonb, u FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[]) AS x(t, i, c, s, v, pr, u)
     ON CONFLICT (installation_id, object_type, record_id) DO UPDATE SET contact_id = EXCLUDED.contact_id, phone_status = EXCLUDED.phone_status,
       consent_value = EXCLUDED.consent_value, properties = EXCLUDED.properties, crm_updated_at = EXCLUDED.crm_updated_at, synced_at = now()`,
    [
      installationId, records.map((r) => r.objectType), records.map((r) => r.recordId), records.map((r) => r.contactId),
      records.map((r) => r.phoneStatus), records.map((r) => r.consentValue), records.map((r) => JSON.stringify(r.properties)), records.map((r) => r.crmUpdatedAt),
    ],
  )
}

/**
 * A derived table for another repository's FROM or JOIN: the records of `installation` (an SQL
 * expression) with their recipient, columns object_type, record_id, phone_status, properties,
 * contact_id, phone, match_key (the last three NULL without a usable phone). A plain subquery, so
 * the planner flattens it into the caller's joins.
 */
export function recordRecipientsSql(installation: string): string {
  return `(SELECT r.object_type, r.record_id, r.phone_status, r.properties, r.contact_id, c.phone, c.match_key
    FROM crm_records r LEFT JOIN contacts c ON c.id = r.contact_id WHERE r.installation_id = ${installation})`
}

/**
 * The recipient of one CRM record in the active installation of a CRM account, if the connector
 * has read that record with a usable phone.
 */
export async function findRecordRecipient(db: Queryable, r: { crm: string; accountId: string; objectType: string; recordId: string }): Promise<{ installationId: string; phone: string } | undefined> {
  // Joins installations only to resolve the account id to its active installation in the same round trip.
  const { rows } = await db.query<{ installation_id: string; phone: string }>(
    `SELECT r.installation_id, c.phone FROM installations i
     JOIN crm_records r ON r.installation_id = i.id AND r.object_type = $3 AND r.record_id = $4
     JOIN contacts c ON c.id = r.contact_id
     WHERE i.crm = $1 AND i.account_id = $2 AND i.status = 'active'`,
    [r.crm, r.accountId, r.objectType, r.recordId],
  )
  return rows[0] ? { installationId: rows[0].installation_id, phone: rows[0].phone } : undefined
}

/**
 * Every CRM record whose recipient has this match key, in the given installations (null: in all),
 * uninstalled installations left out: the records a consent change of that person is written to.
 */
export async function recordsOfRecipient(db: Queryable, matchKey: string, installationIds: readonly string[] | null): Promise<Array<{ installationId: string; objectType: 'contact' | 'lead'; recordId: string }>> {
  // Joins installations only to leave out the uninstalled ones in the same round trip.
  const { rows } = await db.query<{ installation_id: string; object_type: 'contact' | 'lead'; record_id: string }>(
    `SELECT r.installation_id, r.object_type, r.record_id FROM contacts c
     JOIN crm_records r ON r.contact_id = c.id
     JOIN installations i ON i.id = r.installation_id AND i.status <> 'uninstalled'
     WHERE c.match_key = $1 AND ($2::uuid[] IS NULL OR r.installation_id = ANY($2::uuid[]))
     ORDER BY r.installation_id, r.object_type, r.record_id`,
    [matchKey, installationIds],
  )
  return rows.map((r) => ({ installationId: r.installation_id, objectType: r.object_type, recordId: r.record_id }))
}

export interface PersonCrmRecord {
  installationId: string
  objectType: 'contact' | 'lead'
  recordId: string
  phoneStatus: PhoneStatus
  consentValue: string | null
  properties: Record<string, unknown>
  crmUpdatedAt: string | null
  syncedAt: string
}

/** The CRM records linked to these recipients, with the properties read from the CRM. */
export async function crmRecordsOfContacts(db: Queryable, contactIds: readonly string[]): Promise<PersonCrmRecord[]> {
  if (!contactIds.length) return []
  const { rows } = await db.query<{ installation_id: string; object_type: 'contact' | 'lead'; record_id: string; phone_status: PhoneStatus; consent_value: string | null; properties: Record<string, unknown>; crm_updated_at: Date | null; synced_at: Date }>(
    `SELECT installation_id, object_type, record_id, phone_status, consent_value, properties, crm_updated_at, synced_at FROM crm_records
     WHERE contact_id = ANY($1::uuid[]) ORDER BY installation_id, object_type, record_id`,
    [contactIds],
  )
  return rows.map((r) => ({
    installationId: r.installation_id, objectType: r.object_type, recordId: r.record_id, phoneStatus: r.phone_status, consentValue: r.consent_value,
    properties: r.properties, crmUpdatedAt: r.crm_updated_at?.toISOString() ?? null, syncedAt: r.synced_at.toISOString(),
  }))
}

/** Deletes the CRM records linked to these recipients (a later sync reads them again if the CRM still has them). */
export async function deleteCrmRecordsOfContacts(db: Queryable, contactIds: readonly string[]): Promise<number> {
  if (!contactIds.length) return 0
  return (await db.query('DELETE FROM crm_records WHERE contact_id = ANY($1::uuid[])', [contactIds])).rowCount
}
