import { afterAll, beforeAll, expect, test } from 'vitest'
import fc from 'fast-check'
import { migrate } from '../../connector/db/migrate.ts'
import { applyMembershipDiff } from '../../connector/segments/membership-repository.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'

// Property: for any old and new membership, the diff a sync applies to the old gives the new,
// and its counts say exactly what changed.

let tdb: TestDatabase
let segmentId: string

beforeAll(async () => {
  tdb = await createTestDatabase()
  await migrate(tdb.db)
  const { rows: inst } = await tdb.db.query<{ id: string }>(`INSERT INTO installations (crm, account_id) VALUES ('hubspot', 'p1') RETURNING id`)
  const { rows } = await tdb.db.query<{ id: string }>(
    `INSERT INTO segments (installation_id, name, source_type, source_id, phone_properties, default_country) VALUES ($1, 's', 'hubspot_list', '1', '{phone}', 'US') RETURNING id`,
    [inst[0]!.id],
  )
  segmentId = rows[0]!.id
})
afterAll(async () => {
  await tdb?.dispose()
})

const member = fc.tuple(fc.constantFrom('contact', 'lead'), fc.integer({ min: 1, max: 40 }).map(String))
const membership = fc.uniqueArray(member, { selector: ([t, id]) => `${t}:${id}`, maxLength: 30 })

test('the applied diff turns the old membership into the new one', async () => {
  await fc.assert(
    fc.asyncProperty(membership, membership, async (before, after) => {
      await tdb.db.transaction(async (tx) => {
        await tx.query('DELETE FROM segment_members WHERE segment_id = $1', [segmentId])
        for (const [t, id] of before) await tx.query('INSERT INTO segment_members (segment_id, object_type, record_id) VALUES ($1, $2, $3)', [segmentId, t, id])
        const { rows } = await tx.query<{ id: string }>(`INSERT INTO segment_syncs (segment_id, trigger) VALUES ($1, 'manual') RETURNING id`, [segmentId])
        const syncId = rows[0]!.id
        for (const [t, id] of after) await tx.query('INSERT INTO segment_sync_seen (sync_id, object_type, record_id) VALUES ($1, $2, $3)', [syncId, t, id])
        const counts = await applyMembershipDiff(tx, segmentId, syncId)
        const { rows: now } = await tx.query<{ object_type: string; record_id: string }>('SELECT object_type, record_id FROM segment_members WHERE segment_id = $1', [segmentId])
        const key = ([t, id]: readonly [string, string]) => `${t}:${id}`
        const got = new Set(now.map((r) => `${r.object_type}:${r.record_id}`))
        const want = new Set(after.map(key))
        const old = new Set(before.map(key))
        expect(got).toEqual(want)
        expect(counts.added).toBe([...want].filter((k) => !old.has(k)).length)
        expect(counts.removed).toBe([...old].filter((k) => !want.has(k)).length)
        expect(counts.unchanged).toBe([...want].filter((k) => old.has(k)).length)
        const { rows: left } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM segment_sync_seen WHERE sync_id = $1', [syncId])
        expect(left[0]!.n).toBe(0)
      })
    }),
    { numRuns: 60 },
  )
})
