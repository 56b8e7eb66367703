import type { Queryable } from '../db/database.ts'

// inbox: every signed webhook body, stored before it is acknowledged and processed later. This
// module is the only one that reads or writes the table.

export type InboxSource = 'whatsapp' | 'hubspot'
export type InboxState = 'pending' | 'unprocessable'

export interface InboxRow {
  id: number
  source: InboxSource
  body: Uint8Array
  received_at: Date
  attempts: number
}

/** Stores several bodies in one multi-row INSERT. */
export async function insertInboxBodies(db: Queryable, bodies: ReadonlyArray<{ source: InboxSource; body: Buffer; state: InboxState }>): Promise<void> {
  await db.query(
    `INSERT INTO inbox (source, body, state)
     SELECT s, decode(b, 'base64'), st FROM unnest($1::text[], $2::text[], $3::text[]) AS u(s, b, st)`,
    [bodies.map((p) => p.source), bodies.map((p) => p.body.toString('base64')), bodies.map((p) => p.state)],
  )
}

/** Locks up to `limit` due pending rows, oldest first (SKIP LOCKED). Inside a transaction. */
export async function claimPendingInbox(tx: Queryable, limit: number): Promise<InboxRow[]> {
  const { rows } = await tx.query<InboxRow>(
    `SELECT id, source, body, received_at, attempts FROM inbox
     WHERE state = 'pending' AND next_attempt_at <= now()
     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  )
  return rows
}

export async function markInboxProcessed(db: Queryable, ids: readonly number[]): Promise<void> {
  if (!ids.length) return
  await db.query(`UPDATE inbox SET state = 'processed', processed_at = now() WHERE id = ANY($1::bigint[])`, [ids])
}

/** A body that can never be applied, kept with the reason for a person to look at. */
export async function markInboxUnprocessable(db: Queryable, id: number, reason: string): Promise<void> {
  await db.query(`UPDATE inbox SET state = 'unprocessable', last_error = $2, processed_at = now() WHERE id = $1`, [id, reason.slice(0, 1000)])
}

/** Records a failed attempt: pending again after `retryInSeconds`, or failed for good when `final`. */
export async function markInboxAttemptFailed(db: Queryable, id: number, r: { attempts: number; error: string; final: boolean; retryInSeconds: number }): Promise<void> {
  await db.query(
    `UPDATE inbox SET attempts = $2, last_error = $3, state = $4, next_attempt_at = now() + make_interval(secs => $5)
     WHERE id = $1`,
    [id, r.attempts, r.error, r.final ? 'failed' : 'pending', r.retryInSeconds],
  )
}

/** Rows per state (the admin page's backlog). */
export async function inboxCountsByState(db: Queryable): Promise<Array<{ state: string; n: number }>> {
  const { rows } = await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM inbox GROUP BY state ORDER BY state')
  return rows
}

export async function pendingInboxCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE state = 'pending'`)
  return rows[0]?.n ?? 0
}

/**
 * Deletes the stored webhook bodies already handled (processed, unprocessable, failed) that name any
 * of these identifiers (wa_ids, BSUIDs) anywhere in their raw bytes; pending bodies stay for the
 * processor. A scan of the inbox, acceptable for an erasure request. Returns how many.
 */
export async function deleteHandledBodiesNaming(db: Queryable, identifiers: readonly string[]): Promise<number> {
  if (!identifiers.length) return 0
  const { rowCount } = await db.query(
    `DELETE FROM inbox WHERE state <> 'pending' AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS n(v) WHERE position(convert_to(n.v, 'UTF8') IN body) > 0)`,
    [identifiers],
  )
  return rowCount
}
