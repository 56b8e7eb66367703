import { afterAll, beforeAll, expect, test } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { testConfig } from '../helpers/test-config.ts'

let tdb: TestDatabase
let app: FastifyInstance
beforeAll(async () => {
  tdb = await createTestDatabase()
  app = await buildApp(testConfig(), { db: tdb.db, workers: false })
})
afterAll(async () => {
  await app?.close()
  await tdb?.dispose()
})

test('ready', async () => {
  const res = await app.inject({ url: '/readyz' })
  expect(res.json()).toEqual({ status: 'ready', database: 'up', migrations: 'current' })
})
