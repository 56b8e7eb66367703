import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openDatabase, type Database } from '../../connector/db/database.ts'

// Tests run on in-memory PGlite by default and on the PostgreSQL named by DATABASE_URL when set.
// On PostgreSQL each test database is a fresh schema, so test files can run in parallel.

export interface TestDatabase {
  db: Database
  /** A URL that opens the same database (schema) again: for second "instances". */
  url: string | undefined
  open(): Promise<Database>
  dispose(): Promise<void>
}

export const usingPostgres = Boolean(process.env.DATABASE_URL)

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL
  if (!base) {
    const db = await openDatabase({ url: 'memory://', dataDir: '' })
    return { db, url: undefined, open: async () => { throw new Error('a second PGlite instance cannot share an in-memory database') }, dispose: () => db.close() }
  }
  const schema = `t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const url = withSearchPath(base, schema)
  const opened: Database[] = []
  const open = async () => {
    const db = await openDatabase({ url, dataDir: '', poolSize: 5 })
    opened.push(db)
    return db
  }
  const db = await open()
  return {
    db,
    url,
    open,
    async dispose() {
      await Promise.all(opened.map((d) => d.close().catch(() => {})))
      const c = new pg.Client({ connectionString: base })
      await c.connect()
      await c.query(`DROP SCHEMA ${schema} CASCADE`)
      await c.end()
    },
  }
}

export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('options', `-c search_path=${schema}`)
  return u.toString()
}
