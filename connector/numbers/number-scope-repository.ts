import type { Queryable } from '../db/database.ts'

// whatsapp_number_installations: the installations (one customer's CRMs) a WhatsApp number serves.
// A number without rows serves every installation, as a single-customer deployment expects. The
// only module that reads or writes the table.

/** Replaces the number's installations with `installationIds` (empty: every installation). */
export async function setNumberInstallations(db: Queryable, numberId: string, installationIds: readonly string[]): Promise<void> {
  await db.query('DELETE FROM whatsapp_number_installations WHERE number_id = $1 AND NOT (installation_id = ANY($2::uuid[]))', [numberId, installationIds])
  await db.query(
    `INSERT INTO whatsapp_number_installations (number_id, installation_id) SELECT $1, i FROM unnest($2::uuid[]) AS i
     ON CONFLICT DO NOTHING`,
    [numberId, installationIds],
  )
}

/** The installations the number serves; empty when it serves every installation. */
export async function installationsOfNumber(db: Queryable, numberId: string): Promise<string[]> {
  const { rows } = await db.query<{ installation_id: string }>(
    'SELECT installation_id FROM whatsapp_number_installations WHERE number_id = $1 ORDER BY installation_id',
    [numberId],
  )
  return rows.map((r) => r.installation_id)
}
