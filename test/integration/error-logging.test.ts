import pino from 'pino'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import type { Database } from '../../connector/db/database.ts'
import { loggerOptions } from '../../connector/observability/logger.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'

// A request that fails in the database logs its error through one serializer: on PGlite and on
// PostgreSQL alike, the query's parameters and the phone number inside the engine's message stay
// out of the log.

const PHONE = '+14155552671'
let tdb: TestDatabase
let app: FastifyInstance
const lines: string[] = []

beforeAll(async () => {
  tdb = await createTestDatabase()
  const real = tdb.db
  // The consent look-up runs a statement the engine refuses with the phone as its parameter, so
  // its error carries the parameter (PGlite attaches `params`) and quotes the value.
  const failing: Database = {
    kind: real.kind,
    query: (text, params) => (/consent_events/.test(text) ? real.query('SELECT $1::int AS n', [PHONE]) : real.query(text, params)) as never,
    exec: (sql) => real.exec(sql),
    transaction: (fn) => real.transaction(fn),
    close: () => real.close(),
  }
  const log = pino(loggerOptions('info'), { write: (s: string) => void lines.push(s) })
  app = await buildApp(testConfig(), { db: failing, log, workers: false })
})
afterAll(async () => {
  await app?.close()
  await tdb?.dispose()
})

test('a failing query answers 500 without the database code, and its log line holds no parameter and no full phone', async () => {
  const res = await app.inject({ url: `/api/v1/consent?phone=${encodeURIComponent(PHONE)}`, headers: adminHeaders })
  expect(res.statusCode).toBe(500)
  expect(res.json()).toMatchObject({ statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal error' })
  const failure = lines.map((l) => JSON.parse(l) as Record<string, any>).find((r) => r.msg === 'request failed')
  expect(failure?.err?.message).toMatch(/out of range for type integer/)
  expect(failure?.err?.message).toContain('***2671')
  expect(failure?.err).not.toHaveProperty('params')
  const all = lines.join('\n')
  expect(all).not.toContain('4155552671')
  expect(all).not.toContain('415 555')
})
