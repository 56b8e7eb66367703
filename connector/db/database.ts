import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

// One interface over a pg pool and embedded PGlite, so the same SQL and repositories run on both.

export interface QueryResult<R> {
  rows: R[]
  rowCount: number
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>
}

export interface Transaction extends Queryable {
  /** Runs a script of several statements (migrations); no parameters. */
  exec(sql: string): Promise<void>
}

export interface Database extends Transaction {
  readonly kind: 'postgres' | 'pglite'
  /** Runs fn in one transaction on one connection; rolls back when fn throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE'
  constructor(cause: unknown) {
    super('The database cannot be reached', { cause })
    this.name = 'DatabaseUnavailableError'
  }
}

// Errors that mean "the server is gone", as opposed to a bad statement: the callers answer 503.
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004'])

export function isConnectionError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true
  const e = error as { code?: string; message?: string } | null
  if (!e) return false
  if (e.code && CONNECTION_ERROR_CODES.has(e.code)) return true
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e.message ?? '')
}

function wrap(error: unknown): unknown {
  return isConnectionError(error) && !(error instanceof DatabaseUnavailableError) ? new DatabaseUnavailableError(error) : error
}

// int8 (counts, bigserial ids) as numbers on pg too, as PGlite does; ids stay far below 2^53.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format)
  },
} as unknown as pg.CustomTypesConfig

class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const
  readonly #pool: pg.Pool

  constructor(url: string, poolSize: number) {
    this.#pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 })
    // An idle client losing its server must not crash the process; the next query reports it.
    this.#pool.on('error', () => {})
  }

  async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    try {
      const r = await this.#pool.query(text, params as unknown[] | undefined)
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 }
    } catch (error) {
      throw wrap(error)
    }
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql)
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (error) {
      throw wrap(error)
    }
    const tx: Transaction = {
      async query<R>(text: string, params?: readonly unknown[]) {
        try {
          const r = await client.query(text, params as unknown[] | undefined)
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 }
        } catch (error) {
          throw wrap(error)
        }
      },
      async exec(sql: string) {
        await tx.query(sql)
      },
    }
    // A checked-out client that loses its server emits 'error'; unhandled, that would crash the
    // process. The failing query reports the loss to the caller instead.
    const onError = () => { broken = true }
    client.on('error', onError)
    let broken = false
    try {
      await tx.query('BEGIN')
      const result = await fn(tx)
      await tx.query('COMMIT')
      return result
    } catch (error) {
      broken = isConnectionError(error)
      if (!broken) await client.query('ROLLBACK').catch(() => { broken = true })
      throw error
    } finally {
      client.off('error', onError)
      client.release(broken ? true : undefined)
    }
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }
}

// PGlite reports affectedRows 0 for a SELECT; a row count is rows returned or rows changed.
function pgliteRowCount(r: { rows: unknown[]; affectedRows?: number }): number {
  return Math.max(r.rows.length, r.affectedRows ?? 0)
}

class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const
  readonly #db: PGlite

  constructor(db: PGlite) {
    this.#db = db
  }

  async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const r = await this.#db.query<R>(text, params as unknown[] | undefined)
    return { rows: r.rows, rowCount: pgliteRowCount(r) }
  }

  async exec(sql: string): Promise<void> {
    await this.#db.exec(sql)
  }

  // PGlite runs one statement at a time; its transaction() holds that single connection exclusively.
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (t) =>
      fn({
        async query<R>(text: string, params?: readonly unknown[]) {
          const r = await t.query<R>(text, params as unknown[] | undefined)
          return { rows: r.rows, rowCount: pgliteRowCount(r) }
        },
        async exec(sql: string) {
          await t.exec(sql)
        },
      }),
    )
  }

  async close(): Promise<void> {
    if (!this.#db.closed) await this.#db.close()
  }
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL, `memory://` for an in-memory PGlite, or unset for PGlite files in dataDir. */
  url: string | undefined
  dataDir: string
  poolSize?: number
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { url } = options
  if (url && /^postgres(ql)?:\/\//.test(url)) return new PostgresDatabase(url, options.poolSize ?? 10)
  if (url === 'memory://') return new PgliteDatabase(await PGlite.create())
  const dir = join(options.dataDir, 'pglite')
  mkdirSync(dir, { recursive: true })
  return new PgliteDatabase(await PGlite.create(dir))
}
