import type { Queryable } from '../db/database.ts'

// writeback_outbox and writeback_budgets: the CRM write-back outbox and the outbox's share of each
// CRM account's API limit. This module is the only one that reads or writes them.

export type WritebackStatus = 'pending' | 'done' | 'failed'

export interface WritebackInput {
  installationId: string
  objectType: 'contact' | 'lead'
  recordId: string
  kind: string
  payload: Record<string, unknown>
  matchKey: string | null
  occurredAt: Date
  /** Makes a re-enqueued write (a redelivered signal) a no-op. */
  dedupeKey: string | null
}

export interface Writeback extends Omit<WritebackInput, 'dedupeKey'> {
  id: number
  status: WritebackStatus
  attempts: number
  nextAttemptAt: Date
  failingSince: Date | null
  lastErrorCode: string | null
  lastErrorMessage: string | null
  createdAt: Date
  updatedAt: Date
}

/** A claimed write with the source time of the newest write already applied to its record. */
export interface ClaimedWriteback extends Writeback {
  appliedAt: Date | null
}

interface Row {
  id: number
  installation_id: string
  object_type: 'contact' | 'lead'
  record_id: string
  kind: string
  payload: Record<string, unknown>
  match_key: string | null
  occurred_at: Date
  status: WritebackStatus
  attempts: number
  next_attempt_at: Date
  failing_since: Date | null
  last_error_code: string | null
  last_error_message: string | null
  created_at: Date
  updated_at: Date
}

const COLUMNS = `id, installation_id, object_type, record_id, kind, payload, match_key, occurred_at, status, attempts, next_attempt_at,
  failing_since, last_error_code, last_error_message, created_at, updated_at`

function toWriteback(r: Row): Writeback {
  return {
    id: r.id, installationId: r.installation_id, objectType: r.object_type, recordId: r.record_id, kind: r.kind, payload: r.payload,
    matchKey: r.match_key, occurredAt: r.occurred_at, status: r.status, attempts: r.attempts, nextAttemptAt: r.next_attempt_at,
    failingSince: r.failing_since, lastErrorCode: r.last_error_code, lastErrorMessage: r.last_error_message, createdAt: r.created_at, updatedAt: r.updated_at,
  }
}

/** Enqueues several writes in one statement; returns how many were new. */
export async function insertWritebacks(db: Queryable, writes: readonly WritebackInput[]): Promise<number> {
  if (!writes.length) return 0
  const { rowCount } = await db.query(
    `INSERT INTO writeback_outbox (installation_id, object_type, record_id, kind, payload, match_key, occurred_at, dedupe_key)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::timestamptz[], $8::text[])
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [
      writes.map((w) => w.installationId), writes.map((w) => w.objectType), writes.map((w) => w.recordId), writes.map((w) => w.kind),
      writes.map((w) => JSON.stringify(w.payload)), writes.map((w) => w.matchKey), writes.map((w) => w.occurredAt), writes.map((w) => w.dedupeKey),
    ],
  )
  return rowCount
}

const claimable = (w: string) => `${w}.status = 'pending' AND ${w}.next_attempt_at <= now() AND (${w}.leased_until IS NULL OR ${w}.leased_until < now())`
const sameRecord = (a: string, b: string) =>
  `${a}.installation_id = ${b}.installation_id AND ${a}.kind = ${b}.kind AND ${a}.object_type = ${b}.object_type AND ${a}.record_id = ${b}.record_id`

/** A record's oldest pending write: the only one through which it can be claimed. */
const isHead = (w: string) => `NOT EXISTS (SELECT 1 FROM writeback_outbox e WHERE ${sameRecord('e', w)} AND e.status = 'pending' AND e.id < ${w}.id)`

export interface DueWritebacks {
  installationId: string
  /** Records claimable now. */
  due: number
  /** Since the oldest of their writes was enqueued, by the database's clock (every instance's). */
  oldestAgeMs: number
}

/**
 * Per installation with writes of this kind due now (or only `installationId`), how many records
 * a claim would take now and the age of the oldest: what the drainer
 * needs to decide whether a batch is worth a call yet.
 */
export async function dueWritebacks(db: Queryable, q: { kind: string; installationId?: string }): Promise<DueWritebacks[]> {
  const { rows } = await db.query<{ installation_id: string; due: number; oldest_age_ms: number }>(
    `SELECT w.installation_id, count(*)::int AS due, (EXTRACT(EPOCH FROM now() - min(w.created_at)) * 1000)::float8 AS oldest_age_ms
     FROM writeback_outbox w
     WHERE w.kind = $1 AND ($2::uuid IS NULL OR w.installation_id = $2) AND ${claimable('w')} AND ${isHead('w')}
     GROUP BY w.installation_id`,
    [q.kind, q.installationId ?? null],
  )
  return rows.map((r) => ({ installationId: r.installation_id, due: r.due, oldestAgeMs: Number(r.oldest_age_ms) }))
}

/**
 * Leases the due writes of up to `records` records of one installation, for `leaseSeconds`. A
 * record is claimed only through its oldest pending write (its head), with every pending write of
 * it behind, so its writes are applied in order and a later one waits while an earlier is pending
 * or leased. Heads are locked FOR UPDATE SKIP LOCKED: concurrent drainers never take the same record.
 */
export async function claimWritebacks(db: Queryable, c: { installationId: string; kind: string; records: number; leaseSeconds: number }): Promise<ClaimedWriteback[]> {
  const { rows } = await db.query<Row & { applied_at: Date | null }>(
    `WITH heads AS (
       SELECT w.id, w.installation_id, w.kind, w.object_type, w.record_id FROM writeback_outbox w
       WHERE w.installation_id = $1 AND w.kind = $2 AND ${claimable('w')}
         AND ${isHead('w')}
       ORDER BY w.id LIMIT $3 FOR UPDATE SKIP LOCKED
     )
     UPDATE writeback_outbox o SET leased_until = now() + make_interval(secs => $4)
     FROM heads h WHERE ${sameRecord('o', 'h')} AND o.status = 'pending'
     RETURNING ${COLUMNS.split(',').map((c) => `o.${c.trim()}`).join(', ')},
       (SELECT max(d.occurred_at) FROM writeback_outbox d WHERE ${sameRecord('d', 'o')} AND d.status = 'done') AS applied_at`,
    [c.installationId, c.kind, c.records, c.leaseSeconds],
  )
  return rows.map((r) => ({ ...toWriteback(r), appliedAt: r.applied_at })).sort((a, b) => a.id - b.id)
}

/** Pending writes' content replaced by what they will write (the drainer's current state), in one statement. */
export async function rewriteWritebacks(db: Queryable, writes: ReadonlyArray<Pick<Writeback, 'id' | 'payload' | 'occurredAt'>>): Promise<void> {
  if (!writes.length) return
  await db.query(
    `UPDATE writeback_outbox o SET payload = n.payload, occurred_at = n.occurred_at, updated_at = now()
     FROM unnest($1::bigint[], $2::jsonb[], $3::timestamptz[]) AS n(id, payload, occurred_at) WHERE o.id = n.id AND o.status = 'pending'`,
    [writes.map((w) => w.id), writes.map((w) => JSON.stringify(w.payload)), writes.map((w) => w.occurredAt)],
  )
}

export async function markWritebacksDone(db: Queryable, ids: readonly number[]): Promise<void> {
  if (!ids.length) return
  await db.query(
    `UPDATE writeback_outbox SET status = 'done', attempts = attempts + 1, leased_until = NULL, failing_since = NULL, updated_at = now()
     WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
    [ids],
  )
}

/** Pending again after `delayMs`; `countAttempt` false for waits that are no fault of the write (an inactive installation). */
export async function markWritebacksRetry(db: Queryable, ids: readonly number[], r: { delayMs: number; code: string; message: string; countAttempt: boolean }): Promise<void> {
  if (!ids.length) return
  await db.query(
    `UPDATE writeback_outbox SET attempts = attempts + $2::int, next_attempt_at = now() + make_interval(secs => $3), leased_until = NULL,
       failing_since = CASE WHEN $2::int = 1 THEN coalesce(failing_since, now()) ELSE failing_since END,
       last_error_code = $4, last_error_message = $5, updated_at = now()
     WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
    [ids, r.countAttempt ? 1 : 0, r.delayMs / 1000, r.code, r.message.slice(0, 1000)],
  )
}

/** The dead letter: the CRM refused these writes for good. */
export async function markWritebacksFailed(db: Queryable, ids: readonly number[], r: { code: string; message: string }): Promise<void> {
  if (!ids.length) return
  await db.query(
    `UPDATE writeback_outbox SET status = 'failed', attempts = attempts + 1, leased_until = NULL, last_error_code = $2, last_error_message = $3, updated_at = now()
     WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
    [ids, r.code, r.message.slice(0, 1000)],
  )
}

export async function findWriteback(db: Queryable, id: number): Promise<Writeback | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM writeback_outbox WHERE id = $1`, [id])
  return rows[0] ? toWriteback(rows[0]) : undefined
}

/** A dead-lettered write back to pending, due now; undefined when it is not failed (or unknown). */
export async function requeueFailedWriteback(db: Queryable, id: number): Promise<Writeback | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE writeback_outbox SET status = 'pending', next_attempt_at = now(), failing_since = NULL, updated_at = now()
     WHERE id = $1 AND status = 'failed' RETURNING ${COLUMNS}`,
    [id],
  )
  return rows[0] ? toWriteback(rows[0]) : undefined
}

/** Newest first, paged by id (`beforeId`: the last id of the previous page). */
export async function listWritebacks(db: Queryable, q: { status?: WritebackStatus; installationId?: string; limit: number; beforeId?: number }): Promise<Writeback[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM writeback_outbox
     WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR installation_id = $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [q.status ?? null, q.installationId ?? null, q.beforeId ?? null, q.limit],
  )
  return rows.map(toWriteback)
}

/** The writes about one recipient (by match key), newest first. */
export async function writebacksOfMatchKey(db: Queryable, matchKey: string, installationId?: string): Promise<Writeback[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM writeback_outbox WHERE match_key = $1 AND ($2::uuid IS NULL OR installation_id = $2) ORDER BY id DESC LIMIT 500`,
    [matchKey, installationId ?? null],
  )
  return rows.map(toWriteback)
}

/** Pending writes and the enqueue time of the oldest, per installation. */
export async function pendingByInstallation(db: Queryable): Promise<Array<{ installationId: string; pending: number; oldest: Date }>> {
  const { rows } = await db.query<{ installation_id: string; pending: number; oldest: Date }>(
    `SELECT installation_id, count(*)::int AS pending, min(created_at) AS oldest FROM writeback_outbox WHERE status = 'pending' GROUP BY installation_id`,
  )
  return rows.map((r) => ({ installationId: r.installation_id, pending: r.pending, oldest: r.oldest }))
}

/**
 * Takes one call from the installation's token bucket (`burst` at most, refilled at `perSecond`)
 * in one atomic statement, so every instance draws from the same budget; false when it is empty.
 */
export async function takeCallBudget(db: Queryable, installationId: string, budget: { burst: number; perSecond: number }): Promise<boolean> {
  const refilled = `LEAST($2::float8, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.refilled_at) * $3::float8)`
  const { rowCount } = await db.query(
    `INSERT INTO writeback_budgets AS b (installation_id, tokens, refilled_at) VALUES ($1, $2::float8 - 1, clock_timestamp())
     ON CONFLICT (installation_id) DO UPDATE SET tokens = ${refilled} - 1, refilled_at = clock_timestamp()
     WHERE ${refilled} >= 1`,
    [installationId, budget.burst, budget.perSecond],
  )
  return rowCount > 0
}

/** Gives back a call taken for a batch that turned out empty. */
export async function returnCallBudget(db: Queryable, installationId: string): Promise<void> {
  await db.query('UPDATE writeback_budgets SET tokens = tokens + 1 WHERE installation_id = $1', [installationId])
}

/** Deletes every write about a recipient (payloads carry their consent; an erased person is written no more). */
export async function deleteWritebacksOfMatchKey(db: Queryable, matchKey: string): Promise<number> {
  return (await db.query('DELETE FROM writeback_outbox WHERE match_key = $1', [matchKey])).rowCount
}
