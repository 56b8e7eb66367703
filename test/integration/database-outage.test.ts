import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { DatabaseUnavailableError, openDatabase, type Database, type Transaction } from '../../connector/db/database.ts'
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'
import { fixture, signedHeaders } from '../helpers/webhooks.ts'

// The connector survives its database going away and coming back: webhooks answer 503 while it
// is down (so Meta redelivers), nothing crashes, and work resumes when it returns.

async function postWebhook(app: FastifyInstance) {
  const body = fixture('whatsapp/inbound_text.json')
  return app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: body, headers: signedHeaders(body) })
}

/** A database whose every call fails as a lost connection while `down` is set. */
class SwitchableDatabase implements Database {
  down = false
  readonly inner: Database
  constructor(inner: Database) {
    this.inner = inner
  }
  get kind() {
    return this.inner.kind
  }
  #check() {
    if (this.down) throw new DatabaseUnavailableError(new Error('connect ECONNREFUSED'))
  }
  async query<R>(text: string, params?: readonly unknown[]) {
    this.#check()
    return this.inner.query<R>(text, params)
  }
  async exec(sql: string) {
    this.#check()
    return this.inner.exec(sql)
  }
  async transaction<T>(fn: (tx: Transaction) => Promise<T>) {
    this.#check()
    return this.inner.transaction(fn)
  }
  close() {
    return this.inner.close()
  }
}

describe('database outage (any database)', () => {
  let tdb: TestDatabase
  let db: SwitchableDatabase
  let app: FastifyInstance
  beforeAll(async () => {
    tdb = await createTestDatabase()
    db = new SwitchableDatabase(tdb.db)
    app = await buildApp(testConfig(), { db })
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await tdb?.dispose()
  })

  test('webhooks get 503 while the database is away and 200 once it is back; readiness follows', async () => {
    expect((await postWebhook(app)).statusCode).toBe(200)
    db.down = true
    const res = await postWebhook(app)
    expect(res.statusCode).toBe(503)
    expect(res.json().code).toBe('DATABASE_UNAVAILABLE')
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503)
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200)
    expect((await app.inject({ url: '/metrics', headers: adminHeaders })).statusCode).toBe(200)
    await new Promise((r) => setTimeout(r, 300)) // the workers poll and meet the outage
    db.down = false
    expect((await postWebhook(app)).statusCode).toBe(200)
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200)
  })
})

/** A TCP proxy in front of PostgreSQL that can drop every connection and refuse new ones. */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const listen = () => new Promise<void>((resolve) => {
    server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host)
      sockets.add(client).add(upstream)
      client.pipe(upstream).pipe(client)
      const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
    })
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as AddressInfo).port
      resolve()
    })
  })
  await listen()
  return {
    get port() { return port },
    async stop() {
      for (const s of sockets) s.destroy()
      sockets.clear()
      await new Promise<void>((r) => server!.close(() => r()))
    },
    start: listen,
  }
}

describe.runIf(usingPostgres)('PostgreSQL going away under a real pool', () => {
  test('the pool loses its server and reconnects; nothing is acknowledged that was not stored', async () => {
    const tdb = await createTestDatabase()
    const real = new URL(tdb.url!)
    const proxy = await startProxy({ host: real.hostname, port: Number(real.port || 5432) })
    const viaProxy = new URL(tdb.url!)
    viaProxy.port = String(proxy.port)
    const db = await openDatabase({ url: viaProxy.toString(), dataDir: '', poolSize: 4 })
    const app = await buildApp(testConfig(), { db })
    await app.ready()
    try {
      expect((await postWebhook(app)).statusCode).toBe(200)
      await proxy.stop()
      const during = await postWebhook(app)
      expect(during.statusCode).toBe(503)
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503)
      await new Promise((r) => setTimeout(r, 300))
      await proxy.start()
      expect((await postWebhook(app)).statusCode).toBe(200)
      const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox')
      expect(rows[0]!.n).toBe(2)
    } finally {
      await app.close()
      await db.close()
      await proxy.stop().catch(() => {})
      await tdb.dispose()
    }
  })
})
