import type { Queryable } from '../db/database.ts'

// contacts: WhatsApp recipients, one per installation and match key however many CRM records
// share the number. This module is the only one that writes the table.

export interface ContactInput {
  phone: string
  matchKey: string
  country: string | null
  properties: Record<string, unknown>
}

/** Upserts one page of recipients in one statement; returns their ids by match key. */
export async function upsertContacts(db: Queryable, installationId: string, contacts: readonly ContactInput[]): Promise<Map<string, string>> {
  if (!contacts.length) return new Map()
  const { rows } = await db.query<{ id: string; match_key: string }>(
    `INSERT INTO contacts (installation_id, phone, match_key, country, properties)
     SELECT $1, p, k, c, pr::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(p, k, c, pr)
     ON CONFLICT (installation_id, match_key) DO UPDATE SET phone = EXCLUDED.phone, country = EXCLUDED.country,
       properties = EXCLUDED.properties, updated_at = now()
     RETURNING id, match_key`,
    [installationId, contacts.map((c) => c.phone), contacts.map((c) => c.matchKey), contacts.map((c) => c.country), contacts.map((c) => JSON.stringify(c.properties))],
  )
  return new Map(rows.map((r) => [r.match_key, r.id]))
}

/** The installations that have a recipient with this match key. */
export async function installationsWithRecipient(db: Queryable, matchKey: string): Promise<string[]> {
  const { rows } = await db.query<{ installation_id: string }>('SELECT DISTINCT installation_id FROM contacts WHERE match_key = $1', [matchKey])
  return rows.map((r) => r.installation_id)
}

export interface PersonContact {
  id: string
  installationId: string
  phone: string
  country: string | null
  properties: Record<string, unknown>
  createdAt: string
  updatedAt: string
}

/** The recipients (one per installation) with this match key, with the properties copied from the CRM. */
export async function contactsOfMatchKey(db: Queryable, matchKey: string): Promise<PersonContact[]> {
  const { rows } = await db.query<{ id: string; installation_id: string; phone: string; country: string | null; properties: Record<string, unknown>; created_at: Date; updated_at: Date }>(
    'SELECT id, installation_id, phone, country, properties, created_at, updated_at FROM contacts WHERE match_key = $1 ORDER BY installation_id',
    [matchKey],
  )
  return rows.map((r) => ({ id: r.id, installationId: r.installation_id, phone: r.phone, country: r.country, properties: r.properties, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() }))
}

/** Deletes recipients (their CRM records must be erased first); returns how many. */
export async function deleteContacts(db: Queryable, ids: readonly string[]): Promise<number> {
  if (!ids.length) return 0
  return (await db.query('DELETE FROM contacts WHERE id = ANY($1::uuid[])', [ids])).rowCount
}
