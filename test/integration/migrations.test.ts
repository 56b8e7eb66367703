import { afterEach, describe, expect, test } from 'vitest'
import { cpSync, mkdtempSync, appendFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MIGRATIONS_DIR, MigrationError, migrate, migrationsCurrent, readMigrations } from '../../connector/db/migrate.ts'
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-database.ts'

const disposables: TestDatabase[] = []
afterEach(async () => {
  await Promise.all(disposables.splice(0).map((d) => d.dispose()))
})

async function freshDb() {
  const t = await createTestDatabase()
  disposables.push(t)
  return t
}

function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'))
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  return dir
}

describe('migrations', () => {
  test('a fresh database gets every migration, in order, once', async () => {
    const { db } = await freshDb()
    const files = await readMigrations()
    const first = await migrate(db)
    expect(first.applied).toEqual(files.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`))
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
    expect(rows.map((r) => r.version)).toEqual(files.map((m) => m.version))
    expect(await migrationsCurrent(db)).toBe(true)
  })

  test('re-running applies nothing and changes nothing', async () => {
    const { db } = await freshDb()
    await migrate(db)
    await db.query(`INSERT INTO inbox (source, body) VALUES ('whatsapp', '\\x7b7d')`)
    const again = await migrate(db)
    expect(again.applied).toEqual([])
    expect(again.alreadyApplied).toBe((await readMigrations()).length)
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox')
    expect(rows[0]!.n).toBe(1)
  })

  test('an applied migration edited afterwards stops start-up with a clear error', async () => {
    const { db } = await freshDb()
    const dir = copyOfMigrations()
    await migrate(db, dir)
    appendFileSync(join(dir, '0001_foundation.sql'), '\n-- an innocent-looking edit\n')
    const error = await migrate(db, dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as MigrationError).code).toBe('MIGRATION_CHECKSUM')
    expect((error as Error).message).toMatch(/0001_foundation\.sql was edited after it was applied/)
    expect(await migrationsCurrent(db, dir)).toBe(false)
  })

  test('a new migration file is applied on the next run; a failing one leaves nothing behind', async () => {
    const { db } = await freshDb()
    const dir = copyOfMigrations()
    await migrate(db, dir)
    const next = String((await readMigrations(dir)).length + 1).padStart(4, '0')
    writeFileSync(join(dir, `${next}_broken.sql`), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n')
    await expect(migrate(db, dir)).rejects.toThrow()
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'`)
    expect(rows[0]!.n).toBe(0)
    writeFileSync(join(dir, `${next}_broken.sql`), 'CREATE TABLE half_done (id int);\n')
    expect((await migrate(db, dir)).applied).toEqual([`${next}_broken`])
  })

  test('a misnamed file is refused', async () => {
    const dir = copyOfMigrations()
    writeFileSync(join(dir, '2_oops.sql'), 'SELECT 1;')
    await expect(readMigrations(dir)).rejects.toThrow(/NNNN_name\.sql/)
  })

  test.runIf(usingPostgres)('two runners racing apply each migration exactly once (PostgreSQL)', async () => {
    const t = await freshDb()
    const other = await t.open()
    const results = await Promise.all([migrate(t.db), migrate(other), migrate(await t.open())])
    const total = (await readMigrations()).length
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, total])
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations')
    expect(rows[0]!.n).toBe(total)
  })

  test('concurrent runners on one PGlite apply each migration exactly once', async () => {
    const { db } = await freshDb()
    const results = await Promise.all([migrate(db), migrate(db), migrate(db)])
    const total = (await readMigrations()).length
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, total])
  })
})
