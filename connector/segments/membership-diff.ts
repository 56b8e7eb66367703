import type { Queryable } from '../db/database.ts'

// Applies what a finished sync read (segment_sync_seen) to the segment's membership, in SQL so
// memory stays flat whatever the list's size: members not seen are removed, records seen but
// not members are added. Runs inside the sync's final transaction.

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
