import { currentConsentSql } from '../consent/consent-ledger.ts'
import { recordRecipientsSql } from '../contacts/crm-record-repository.ts'
import type { Queryable } from '../db/database.ts'
import type { Segment } from './segment-repository.ts'

// segment_members (the last good membership of each segment) and segment_sync_seen (what a
// running sync has read so far). applyMembershipDiff applies what a finished sync read to the
// membership in SQL, so memory stays flat whatever the list's size: members not seen are removed,
// records seen but not members are added. It runs inside the sync's final transaction.

export interface MemberRef {
  objectType: string
  recordId: string
  memberKey: string | null
}

/** Notes one page of records a running sync has read. */
export async function noteSeen(db: Queryable, syncId: string, members: readonly MemberRef[]): Promise<void> {
  if (!members.length) return
  await db.query(
    `INSERT INTO segment_sync_seen (sync_id, object_type, record_id, member_key)
     SELECT $1, t, i, k FROM unnest($2::text[], $3::text[], $4::text[]) AS x(t, i, k) ON CONFLICT DO NOTHING`,
    [syncId, members.map((m) => m.objectType), members.map((m) => m.recordId), members.map((m) => m.memberKey)],
  )
}

/** Forgets what a sync had read (it failed for good). */
export async function forgetSeen(db: Queryable, syncId: string): Promise<void> {
  await db.query('DELETE FROM segment_sync_seen WHERE sync_id = $1', [syncId])
}

/** Adds members or refreshes their member key; returns the ones that were new (as "objectType:recordId"). */
export async function upsertMembers(db: Queryable, segmentId: string, members: readonly MemberRef[]): Promise<Set<string>> {
  if (!members.length) return new Set()
  const { rows } = await db.query<{ object_type: string; record_id: string; inserted: boolean }>(
    `INSERT INTO segment_members (segment_id, object_type, record_id, member_key)
     SELECT $1, t, i, k FROM unnest($2::text[], $3::text[], $4::text[]) AS x(t, i, k)
     ON CONFLICT (segment_id, object_type, record_id) DO UPDATE SET member_key = EXCLUDED.member_key
     RETURNING object_type, record_id, (xmax = 0) AS inserted`,
    [segmentId, members.map((m) => m.objectType), members.map((m) => m.recordId), members.map((m) => m.memberKey)],
  )
  return new Set(rows.filter((r) => r.inserted).map((r) => `${r.object_type}:${r.record_id}`))
}

export interface JoiningMember {
  objectType: string
  recordId: string
  phone: string
}

/**
 * One page of the records a finished sync read that are not members yet (they join when its diff
 * is applied) and have a usable phone, by (objectType, recordId) after `after`.
 */
export async function joiningMembers(db: Queryable, segment: Segment, syncId: string, after: { objectType: string; recordId: string } | undefined, limit: number): Promise<JoiningMember[]> {
  const { rows } = await db.query<{ object_type: string; record_id: string; phone: string }>(
    `SELECT s.object_type, s.record_id, r.phone FROM segment_sync_seen s
     JOIN ${recordRecipientsSql('$3::uuid')} r ON r.object_type = s.object_type AND r.record_id = s.record_id
     WHERE s.sync_id = $2 AND r.phone IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = $1 AND m.object_type = s.object_type AND m.record_id = s.record_id)
       AND ($4::text IS NULL OR (s.object_type, s.record_id) > ($4::text, $5::text))
     ORDER BY s.object_type, s.record_id LIMIT $6`,
    [segment.id, syncId, segment.installationId, after?.objectType ?? null, after?.recordId ?? null, limit],
  )
  return rows.map((r) => ({ objectType: r.object_type, recordId: r.record_id, phone: r.phone }))
}

/** Removes the members the source reported removed (by the source's own membership id); returns how many. */
export async function removeMembersByKey(db: Queryable, segmentId: string, memberKeys: readonly string[]): Promise<number> {
  if (!memberKeys.length) return 0
  const { rowCount } = await db.query('DELETE FROM segment_members WHERE segment_id = $1 AND member_key = ANY($2::text[])', [segmentId, memberKeys])
  return rowCount
}

export async function countMembers(db: Queryable, segmentId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM segment_members WHERE segment_id = $1', [segmentId])
  return rows[0]!.n
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
       SELECT r.contact_id, r.match_key, r.phone_status FROM segment_members sm
       JOIN ${recordRecipientsSql('$2::uuid')} r ON r.object_type = sm.object_type AND r.record_id = sm.record_id
       WHERE sm.segment_id = $1
     ), recipients AS (
       SELECT DISTINCT contact_id, match_key FROM m WHERE contact_id IS NOT NULL
     ), states AS (
       SELECT ${currentConsentSql('r.match_key', '$2::uuid')} AS state FROM recipients r
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
    `SELECT sm.object_type, sm.record_id, r.phone, r.phone_status, r.properties,
            CASE WHEN r.contact_id IS NULL THEN NULL ELSE COALESCE(${currentConsentSql('r.match_key', '$2::uuid')}, 'unknown') END AS state
     FROM segment_members sm
     JOIN ${recordRecipientsSql('$2::uuid')} r ON r.object_type = sm.object_type AND r.record_id = sm.record_id
     WHERE sm.segment_id = $1 AND ($3::text IS NULL OR (sm.object_type, sm.record_id) > ($3::text, $4::text))
     ORDER BY sm.object_type, sm.record_id LIMIT $5`,
    [segment.id, segment.installationId, after?.objectType ?? null, after?.recordId ?? null, limit],
  )
  return rows.map((r) => ({ objectType: r.object_type, recordId: r.record_id, phone: r.phone, phoneStatus: r.phone_status, consent: r.state as MemberView['consent'], properties: r.properties }))
}

export interface DiffCounts {
  added: number
  removed: number
  unchanged: number
}

export async function applyMembershipDiff(tx: Queryable, segmentId: string, syncId: string): Promise<DiffCounts> {
  const removed = await tx.query(
    `DELETE FROM segment_members m WHERE m.segment_id = $1
       AND NOT EXISTS (SELECT 1 FROM segment_sync_seen s WHERE s.sync_id = $2 AND s.object_type = m.object_type AND s.record_id = m.record_id)`,
    [segmentId, syncId],
  )
  const added = await tx.query(
    `INSERT INTO segment_members (segment_id, object_type, record_id, member_key)
     SELECT $1, s.object_type, s.record_id, s.member_key FROM segment_sync_seen s WHERE s.sync_id = $2
     ON CONFLICT DO NOTHING`,
    [segmentId, syncId],
  )
  await tx.query(
    `UPDATE segment_members m SET member_key = s.member_key FROM segment_sync_seen s
     WHERE m.segment_id = $1 AND s.sync_id = $2 AND s.object_type = m.object_type AND s.record_id = m.record_id
       AND m.member_key IS DISTINCT FROM s.member_key`,
    [segmentId, syncId],
  )
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM segment_sync_seen WHERE sync_id = $1', [syncId])
  await tx.query('DELETE FROM segment_sync_seen WHERE sync_id = $1', [syncId])
  return { added: added.rowCount, removed: removed.rowCount, unchanged: rows[0]!.n - added.rowCount }
}

export interface RecordRef {
  installationId: string
  objectType: string
  recordId: string
}

/** The segments these CRM records are members of. */
export async function membershipsOfRecords(db: Queryable, records: readonly RecordRef[]): Promise<Array<RecordRef & { segmentId: string; addedAt: string }>> {
  if (!records.length) return []
  const { rows } = await db.query<{ segment_id: string; installation_id: string; object_type: string; record_id: string; added_at: Date }>(
    `SELECT m.segment_id, s.installation_id, m.object_type, m.record_id, m.added_at FROM segment_members m JOIN segments s ON s.id = m.segment_id
     JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS x(i, t, r) ON s.installation_id = x.i AND m.object_type = x.t AND m.record_id = x.r
     ORDER BY m.segment_id, m.object_type, m.record_id`,
    [records.map((r) => r.installationId), records.map((r) => r.objectType), records.map((r) => r.recordId)],
  )
  return rows.map((r) => ({ segmentId: r.segment_id, installationId: r.installation_id, objectType: r.object_type, recordId: r.record_id, addedAt: r.added_at.toISOString() }))
}

/** Removes these CRM records from every segment (and from what running syncs have read). */
export async function deleteMembershipsOfRecords(db: Queryable, records: readonly RecordRef[]): Promise<number> {
  if (!records.length) return 0
  const params = [records.map((r) => r.installationId), records.map((r) => r.objectType), records.map((r) => r.recordId)]
  await db.query(
    `DELETE FROM segment_sync_seen v USING segment_syncs y, segments s, unnest($1::uuid[], $2::text[], $3::text[]) AS x(i, t, r)
     WHERE y.id = v.sync_id AND s.id = y.segment_id AND s.installation_id = x.i AND v.object_type = x.t AND v.record_id = x.r`,
    params,
  )
  const { rowCount } = await db.query(
    `DELETE FROM segment_members m USING segments s, unnest($1::uuid[], $2::text[], $3::text[]) AS x(i, t, r)
     WHERE s.id = m.segment_id AND s.installation_id = x.i AND m.object_type = x.t AND m.record_id = x.r`,
    params,
  )
  return rowCount
}
