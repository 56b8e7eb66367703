import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Database, Queryable, Transaction } from './database.ts'

// Forward-only migrations from migrations/NNNN_name.sql, applied in one transaction under an
// advisory lock so instances starting together apply each file once. Checksums catch a file
// edited after it was applied: that stops start-up instead of leaving schemas to drift.

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))
const LOCK_KEY = 7_302_411_905 // arbitrary, constant: "connector migrations"

export interface Migration {
  version: number
  name: string
  sql: string
  checksum: string
}

export class MigrationError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'MigrationError'
    this.code = code
  }
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  const migrations: Migration[] = []
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file)
    if (!match) throw new MigrationError('MIGRATION_NAME', `Migration file ${file} is not named NNNN_name.sql`)
    const sql = await readFile(`${dir}/${file}`, 'utf8')
    migrations.push({ version: Number(match[1]), name: match[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') })
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new MigrationError('MIGRATION_GAP', `Migrations must be numbered 0001, 0002, … without gaps; found ${String(m.version).padStart(4, '0')}_${m.name}.sql at position ${i + 1}`)
  })
  return migrations
}

interface AppliedRow {
  version: number
  name: string
  checksum: string
}

export interface MigrateResult {
  applied: string[]
  alreadyApplied: number
}

export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await readMigrations(dir)
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY])
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await tx.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
    verifyApplied(rows, migrations)
    const pending = migrations.filter((m) => !rows.some((r) => r.version === m.version))
    for (const m of pending) await apply(tx, m)
    return { applied: pending.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`), alreadyApplied: rows.length }
  })
}

function verifyApplied(rows: AppliedRow[], migrations: Migration[]): void {
  for (const row of rows) {
    const file = migrations.find((m) => m.version === row.version)
    const label = `${String(row.version).padStart(4, '0')}_${row.name}.sql`
    if (!file) throw new MigrationError('MIGRATION_UNKNOWN', `The database has migration ${label} applied, which this version of the connector does not have. Run the newer connector or restore the file.`)
    if (file.checksum !== row.checksum) {
      throw new MigrationError('MIGRATION_CHECKSUM', `Migration ${label} was edited after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ${file.checksum.slice(0, 12)}… on disk). Migrations are forward-only: restore the file and add a new migration instead.`)
    }
  }
}

async function apply(tx: Transaction, m: Migration): Promise<void> {
  await tx.exec(m.sql)
  await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum])
}

/** True when every migration on disk is applied with a matching checksum (readiness). */
export async function migrationsCurrent(db: Queryable, dir = MIGRATIONS_DIR): Promise<boolean> {
  const migrations = await readMigrations(dir)
  const { rows } = await db.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
  return rows.length === migrations.length && rows.every((r, i) => r.checksum === migrations[i]!.checksum)
}
