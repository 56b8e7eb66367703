import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll } from 'vitest'
import { buildApp } from '../../connector/app.ts'
import { createTestDatabase, type TestDatabase } from './test-database.ts'
import { testConfig } from './test-config.ts'

/** One app without background workers on a fresh test database for the test file; `env` adds variables. */
export function useTestApp(env: Record<string, string> = {}): { readonly app: FastifyInstance; readonly tdb: TestDatabase } {
  let tdb: TestDatabase | undefined
  let app: FastifyInstance | undefined
  beforeAll(async () => {
    tdb = await createTestDatabase()
    app = await buildApp(testConfig(env), { db: tdb.db, workers: false })
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.dispose()
  })
  return {
    get app() { return app! },
    get tdb() { return tdb! },
  }
}
