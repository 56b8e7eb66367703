import type { Queryable } from '../db/database.ts'

export type SourceType = 'hubspot_list' | 'salesforce_campaign' | 'salesforce_list_view' | 'salesforce_report'

export interface Segment {
  id: string
  installationId: string
  name: string
  source: { type: SourceType; id: string; name: string | null }
  phoneProperties: string[]
  defaultCountry: string
  consentProperty: string | null
  copyProperties: string[]
  schedule: string | null
  /** The list is itself the record of opt-in: members joining it are recorded as opted in with this evidence. */
  listIsOptIn: { evidence: string } | null
  runningSyncId: string | null
  heartbeatAt: Date | null
  /** The time the last successful sync covered up to: where an incremental sync starts. */
  changeCursor: string | null
  createdAt: Date
  updatedAt: Date
}

interface Row {
  id: string
  installation_id: string
  name: string
  source_type: SourceType
  source_id: string
  source_name: string | null
  phone_properties: string[]
  default_country: string
  consent_property: string | null
  copy_properties: string[]
  schedule: string | null
  list_opt_in_evidence: string | null
  running_sync_id: string | null
  heartbeat_at: Date | null
  change_cursor: string | null
  created_at: Date
  updated_at: Date
}

const SEGMENT_COLUMNS = `id, installation_id, name, source_type, source_id, source_name, phone_properties, default_country,
  consent_property, copy_properties, schedule, list_opt_in_evidence, running_sync_id, heartbeat_at, change_cursor, created_at, updated_at`

function toSegment(r: Row): Segment {
  return {
    id: r.id,
    installationId: r.installation_id,
    name: r.name,
    source: { type: r.source_type, id: r.source_id, name: r.source_name },
    phoneProperties: r.phone_properties,
    defaultCountry: r.default_country,
    consentProperty: r.consent_property,
    copyProperties: r.copy_properties,
    schedule: r.schedule,
    listIsOptIn: r.list_opt_in_evidence === null ? null : { evidence: r.list_opt_in_evidence },
    runningSyncId: r.running_sync_id,
    heartbeatAt: r.heartbeat_at,
    changeCursor: r.change_cursor,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

export type NewSegment = Pick<Segment, 'installationId' | 'name' | 'source' | 'phoneProperties' | 'defaultCountry' | 'consentProperty' | 'copyProperties' | 'schedule' | 'listIsOptIn'>

export async function insertSegment(db: Queryable, s: NewSegment): Promise<Segment> {
  const { rows } = await db.query<Row>(
    `INSERT INTO segments (installation_id, name, source_type, source_id, source_name, phone_properties, default_country, consent_property, copy_properties, schedule, list_opt_in_evidence)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${SEGMENT_COLUMNS}`,
    [s.installationId, s.name, s.source.type, s.source.id, s.source.name, s.phoneProperties, s.defaultCountry, s.consentProperty, s.copyProperties, s.schedule, s.listIsOptIn?.evidence ?? null],
  )
  return toSegment(rows[0]!)
}

export async function findSegment(db: Queryable, id: string): Promise<Segment | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE id::text = $1`, [id])
  return rows[0] ? toSegment(rows[0]) : undefined
}

export async function listSegments(db: Queryable): Promise<Segment[]> {
  const { rows } = await db.query<Row>(`SELECT ${SEGMENT_COLUMNS} FROM segments ORDER BY created_at, id`)
  return rows.map(toSegment)
}

export interface SyncView {
  id: string
  status: 'running' | 'succeeded' | 'failed'
  mode: 'full' | 'incremental'
  trigger: string
  added: number
  removed: number
  unchanged: number
  invalid: number
  crmCalls: number
  pages: number
  startedAt: string
  finishedAt: string | null
  error?: { code: string | null; message: string }
}

interface SyncRow {
  id: string
  status: SyncView['status']
  mode: SyncView['mode']
  trigger: string
  added: number
  removed: number
  unchanged: number
  invalid: number
  crm_calls: number
  pages: number
  started_at: Date
  finished_at: Date | null
  error_code: string | null
  error: string | null
}

function toSyncView(r: SyncRow): SyncView {
  const v: SyncView = {
    id: r.id, status: r.status, mode: r.mode, trigger: r.trigger, added: r.added, removed: r.removed, unchanged: r.unchanged, invalid: r.invalid,
    crmCalls: r.crm_calls, pages: r.pages, startedAt: r.started_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null,
  }
  if (r.error) v.error = { code: r.error_code, message: r.error }
  return v
}

export async function syncHistory(db: Queryable, segmentId: string, limit = 20): Promise<SyncView[]> {
  const { rows } = await db.query<SyncRow>(
    `SELECT id, status, mode, trigger, added, removed, unchanged, invalid, crm_calls, pages, started_at, finished_at, error_code, error
     FROM segment_syncs WHERE segment_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
    [segmentId, limit],
  )
  return rows.map(toSyncView)
}

/** A sync by id; with `segmentId`, only if it is that segment's. */
export async function findSync(db: Queryable, syncId: string, segmentId?: string): Promise<SyncView | undefined> {
  const { rows } = await db.query<SyncRow>(
    `SELECT id, status, mode, trigger, added, removed, unchanged, invalid, crm_calls, pages, started_at, finished_at, error_code, error
     FROM segment_syncs WHERE id = $1 AND ($2::uuid IS NULL OR segment_id = $2::uuid)`,
    [syncId, segmentId ?? null],
  )
  return rows[0] ? toSyncView(rows[0]) : undefined
}

// The sync lifecycle on segments and segment_syncs; SegmentSyncer decides, these only write.

/** Locks the segment row for a claim (inside the claim's transaction). */
export async function lockSegment(tx: Queryable, id: string): Promise<Segment | undefined> {
  const { rows } = await tx.query<Row>(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE id = $1 FOR UPDATE`, [id])
  return rows[0] ? toSegment(rows[0]) : undefined
}

export async function syncProgress(db: Queryable, syncId: string): Promise<{ cursor: string | null; status: SyncView['status'] } | undefined> {
  const { rows } = await db.query<{ cursor: string | null; status: SyncView['status'] }>('SELECT cursor, status FROM segment_syncs WHERE id = $1', [syncId])
  return rows[0]
}

export async function clearSyncError(db: Queryable, syncId: string): Promise<void> {
  await db.query('UPDATE segment_syncs SET error = NULL, error_code = NULL WHERE id = $1', [syncId])
}

export async function createSync(db: Queryable, segmentId: string, trigger: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO segment_syncs (segment_id, trigger) VALUES ($1, $2) RETURNING id', [segmentId, trigger])
  return rows[0]!.id
}

export async function markSegmentSyncing(db: Queryable, segmentId: string, syncId: string): Promise<void> {
  await db.query('UPDATE segments SET running_sync_id = $2, heartbeat_at = now() WHERE id = $1', [segmentId, syncId])
}

/** Records one committed page: the cursor to resume from, its counts, and the segment's heartbeat. */
export async function recordSyncPage(db: Queryable, segmentId: string, syncId: string, page: { cursor: string | null; calls: number; invalid: number }): Promise<void> {
  await db.query(
    `UPDATE segment_syncs SET cursor = $2, pages = pages + 1, crm_calls = crm_calls + $3,
       invalid = invalid + $4 WHERE id = $1`,
    [syncId, page.cursor, page.calls, page.invalid],
  )
  await db.query('UPDATE segments SET heartbeat_at = now() WHERE id = $1', [segmentId])
}

/** A full read succeeded: its counts, and the time it began as the next incremental sync's start. */
export async function finishFullSync(db: Queryable, segmentId: string, syncId: string, counts: { added: number; removed: number; unchanged: number }): Promise<void> {
  await db.query(
    `UPDATE segment_syncs SET status = 'succeeded', added = $2, removed = $3, unchanged = $4, cursor = NULL, finished_at = now() WHERE id = $1`,
    [syncId, counts.added, counts.removed, counts.unchanged],
  )
  await db.query(
    `UPDATE segments SET running_sync_id = NULL, heartbeat_at = NULL, updated_at = now(),
       change_cursor = (SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM segment_syncs WHERE id = $2)
     WHERE id = $1`,
    [segmentId, syncId],
  )
}

export async function finishIncrementalSync(
  db: Queryable, segmentId: string, syncId: string,
  r: { added: number; removed: number; unchanged: number; calls: number; invalid: number; until: string },
): Promise<void> {
  await db.query(
    `UPDATE segment_syncs SET status = 'succeeded', mode = 'incremental', added = $2, removed = $3, unchanged = $4, pages = 1, crm_calls = $5,
       invalid = $6, finished_at = now() WHERE id = $1`,
    [syncId, r.added, r.removed, r.unchanged, r.calls, r.invalid],
  )
  await db.query('UPDATE segments SET running_sync_id = NULL, heartbeat_at = NULL, change_cursor = $2, updated_at = now() WHERE id = $1', [segmentId, r.until])
}

/** A retryable interruption: the sync stays running and resumable from its cursor, its heartbeat stops. */
export async function interruptSync(db: Queryable, segmentId: string, syncId: string, error: { code: string; message: string }): Promise<void> {
  await db.query('UPDATE segment_syncs SET error_code = $2, error = $3 WHERE id = $1', [syncId, error.code, error.message])
  await db.query('UPDATE segments SET heartbeat_at = NULL WHERE id = $1', [segmentId])
}

/** The sync ends as failed; the segment is free for the next one. */
export async function failSync(db: Queryable, segmentId: string, syncId: string, error: { code: string; message: string }): Promise<void> {
  await db.query(`UPDATE segment_syncs SET status = 'failed', error_code = $2, error = $3, cursor = NULL, finished_at = now() WHERE id = $1`, [syncId, error.code, error.message])
  await db.query('UPDATE segments SET running_sync_id = NULL, heartbeat_at = NULL WHERE id = $1', [segmentId])
}
