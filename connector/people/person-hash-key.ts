import type { Queryable } from '../db/database.ts'
import { personHashPads } from '../security/person-hash.ts'

// person_hash_key: the one row keying person_hash (migration 0013). Written once, at the first
// start after the migration; later starts keep it, so hashes stay comparable after a key rotation.

export async function ensurePersonHashKey(db: Queryable, encryptionKey: string): Promise<void> {
  const { innerPad, outerPad } = personHashPads(encryptionKey)
  await db.query('INSERT INTO person_hash_key (inner_pad, outer_pad) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [innerPad, outerPad])
}

/** Whether person_hash has its key (written at start-up); erasure refuses to run without it. */
export async function personHashReady(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ ready: boolean }>('SELECT EXISTS (SELECT 1 FROM person_hash_key) AS ready')
  return rows[0]?.ready ?? false
}

/**
 * An SQL condition: `column` holds person_hash(`value`). The key's pads are uncorrelated subqueries
 * (planned once per statement) and the prefix test comes first, so a row that was never erased
 * costs one prefix comparison and no hashing.
 */
export function isPersonHashOfSql(column: string, value: string): string {
  return `(${column} LIKE 'erased:%' AND ${column} = ('erased:' || encode(sha256((SELECT k.outer_pad FROM person_hash_key k) || sha256((SELECT k.inner_pad FROM person_hash_key k) || convert_to(${value}, 'UTF8'))), 'hex')))`
}
