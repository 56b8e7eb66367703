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
  running_sync_id: string | null
  heartbeat_at: Date | null
  change_cursor: string | null
  created_at: Date
  updated_at: Date
}

export const SEGMENT_COLUMNS = `id, installation_id, name, source_type, source_id, source_name, phone_properties, default_country,
  consent_property, copy_properties, schedule, running_sync_id, heartbeat_at, change_cursor, created_at, updated_at`

export function toSegment(r: Row): Segment {
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
    runningSyncId: r.running_sync_id,
    heartbeatAt: r.heartbeat_at,
    changeCursor: r.change_cursor,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

export type NewSegment = Pick<Segment, 'installationId' | 'name' | 'source' | 'phoneProperties' | 'defaultCountry' | 'consentProperty' | 'copyProperties' | 'schedule'>

export async function insertSegment(db: Queryable, s: NewSegment): Promise<Segment> {
  const { rows } = await db.query<Row>(
    `INSERT INTO segments (installation_id, name, source_type, source_id, source_name, phone_properties, default_country, consent_property, copy_properties, schedule)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${SEGMENT_COLUMNS}`,
    [s.installationId, s.name, s.source.type, s.source.id, s.source.name, s.phoneProperties, s.defaultCountry, s.consentProperty, s.copyProperties, s.schedule],
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

export interface SegmentCounts {
  members: number
  reachable: number
  optedIn: number
  optedOut: number
  noConsent: number
  invalidPhone: number
}

/**
 * Members are CRM records; the consent counts are per WhatsApp recipient (records sharing a number
 * count once); reachable = recipients with a valid number whose current state is opted in.
 */
export async function segmentCounts(db: Queryable, segment: Segment): Promise<SegmentCounts> {
  const { rows } = await db.query<{ members: number; invalid_phone: number; opted_in: number; opted_out: number; no_consent: number }>(
    `WITH m AS (
       SELECT r.contact_id, r.phone_status FROM segment_members sm
       JOIN crm_records r ON r.installation_id = $2 AND r.object_type = sm.object_type AND r.record_id = sm.record_id
       WHERE sm.segment_id = $1
     ), recipients AS (
       SELECT DISTINCT c.id, c.match_key FROM m JOIN contacts c ON c.id = m.contact_id
     ), states AS (
       SELECT (SELECT e.state FROM consent_events e
               WHERE e.match_key = r.match_key AND (e.installation_id IS NULL OR e.installation_id = $2)
               ORDER BY e.occurred_at DESC, (e.state = 'opted_out') DESC, e.id DESC LIMIT 1) AS state
       FROM recipients r
     )
     SELECT (SELECT count(*)::int FROM m) AS members,
            (SELECT count(*)::int FROM m WHERE phone_status <> 'ok') AS invalid_phone,
            count(*) FILTER (WHERE state = 'opted_in')::int AS opted_in,
            count(*) FILTER (WHERE state = 'opted_out')::int AS opted_out,
            count(*) FILTER (WHERE state IS NULL)::int AS no_consent
     FROM states`,
    [segment.id, segment.installationId],
  )
  const r = rows[0]!
  return { members: r.members, reachable: r.opted_in, optedIn: r.opted_in, optedOut: r.opted_out, noConsent: r.no_consent, invalidPhone: r.invalid_phone }
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

export async function findSync(db: Queryable, syncId: string): Promise<SyncView | undefined> {
  const { rows } = await db.query<SyncRow>(
    `SELECT id, status, mode, trigger, added, removed, unchanged, invalid, crm_calls, pages, started_at, finished_at, error_code, error
     FROM segment_syncs WHERE id = $1`,
    [syncId],
  )
  return rows[0] ? toSyncView(rows[0]) : undefined
}

export interface MemberView {
  objectType: string
  recordId: string
  phone: string | null
  phoneStatus: string
  consent: 'opted_in' | 'opted_out' | 'unknown' | null
  properties: Record<string, unknown>
}

/** One page of members ordered by (objectType, recordId); the cursor is the last key of the page. */
export async function memberPage(db: Queryable, segment: Segment, after: { objectType: string; recordId: string } | undefined, limit: number): Promise<MemberView[]> {
  const { rows } = await db.query<{ object_type: string; record_id: string; phone: string | null; phone_status: string; properties: Record<string, unknown>; state: string | null }>(
    `SELECT sm.object_type, sm.record_id, c.phone, r.phone_status, r.properties,
            CASE WHEN c.id IS NULL THEN NULL ELSE COALESCE((
              SELECT e.state FROM consent_events e
              WHERE e.match_key = c.match_key AND (e.installation_id IS NULL OR e.installation_id = $2)
              ORDER BY e.occurred_at DESC, (e.state = 'opted_out') DESC, e.id DESC LIMIT 1), 'unknown') END AS state
     FROM segment_members sm
     JOIN crm_records r ON r.installation_id = $2 AND r.object_type = sm.object_type AND r.record_id = sm.record_id
     LEFT JOIN contacts c ON c.id = r.contact_id
     WHERE sm.segment_id = $1 AND ($3::text IS NULL OR (sm.object_type, sm.record_id) > ($3::text, $4::text))
     ORDER BY sm.object_type, sm.record_id LIMIT $5`,
    [segment.id, segment.installationId, after?.objectType ?? null, after?.recordId ?? null, limit],
  )
  return rows.map((r) => ({ objectType: r.object_type, recordId: r.record_id, phone: r.phone, phoneStatus: r.phone_status, consent: r.state as MemberView['consent'], properties: r.properties }))
}
