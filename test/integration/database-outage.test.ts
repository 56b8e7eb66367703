import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { DatabaseUnavailableError, openDatabase, type Database, type Transaction } from '../../connector/db/database.ts'
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'
import { fixture, signedHeaders, statusWebhook } from '../helpers/webhooks.ts'

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

/**
 * A TCP proxy in front of PostgreSQL. `stop` drops every connection and closes the port; `refuse`
 * drops every connection and resets new ones while the port stays bound (a server restarting),
 * until `accept`.
 */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  let refusing = false
  const cutAll = () => {
    for (const s of sockets) s.destroy()
    sockets.clear()
  }
  const listen = () => new Promise<void>((resolve) => {
    server = net.createServer((client) => {
      client.on('error', () => {})
      if (refusing) {
        client.resetAndDestroy()
        return
      }
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
      cutAll()
      await new Promise<void>((r) => server!.close(() => r()))
    },
    start: listen,
    refuse() {
      refusing = true
      cutAll()
    },
    accept() {
      refusing = false
    },
  }
}

/** A connector whose pool reaches the test database through a proxy. */
async function connectorBehindProxy() {
  const tdb = await createTestDatabase()
  const real = new URL(tdb.url!)
  const proxy = await startProxy({ host: real.hostname, port: Number(real.port || 5432) })
  const viaProxy = new URL(tdb.url!)
  viaProxy.port = String(proxy.port)
  const db = await openDatabase({ url: viaProxy.toString(), dataDir: '', poolSize: 4 })
  const app = await buildApp(testConfig(), { db })
  await app.ready()
  return {
    tdb,
    proxy,
    app,
    async dispose() {
      await app.close()
      await db.close()
      await proxy.stop().catch(() => {})
      await tdb.dispose()
    },
  }
}

/** Resolves once `condition` holds, checking every few milliseconds; fails with `what` past the deadline. */
async function waitFor(what: string, condition: () => boolean, deadline: number) {
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe.runIf(usingPostgres)('PostgreSQL going away under a real pool', () => {
  test('the pool loses its server and reconnects; nothing is acknowledged that was not stored', async () => {
    const { tdb, proxy, app, dispose } = await connectorBehindProxy()
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
      await dispose()
    }
  })

  test('a restart under load: every body acknowledged is stored once, the outage answers 503, the connector recovers in place', async () => {
    const SENDERS = 8
    const MAX_PER_SENDER = 400
    const OUTAGE_MS = 3_000
    const REQUEST_TIMEOUT_MS = 6_000
    const deadline = Date.now() + 25_000
    const { tdb, proxy, app, dispose } = await connectorBehindProxy()
    type Sent = { body: string; startedAt: number; endedAt: number; status: number | 'timeout' | 'network'; code?: string }
    const sent: Sent[] = []
    const readiness: Array<{ at: number; status: number | 'timeout' | 'network' }> = []
    let stopping = false
    let outageAt = Infinity
    let restoredAt = Infinity
    const acked = (after: number) => sent.filter((s) => s.status === 200 && s.startedAt >= after).length
    try {
      await app.listen({ port: 0, host: '127.0.0.1' })
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
      const call = async (url: string, init: RequestInit = {}) => {
        try {
          const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
          const text = await res.text()
          let code: string | undefined
          try { code = JSON.parse(text).code } catch {}
          return { status: res.status as Sent['status'], code }
        } catch (error) {
          return { status: ((error as Error).name === 'TimeoutError' ? 'timeout' : 'network') as Sent['status'] }
        }
      }
      const sender = async (n: number) => {
        for (let i = 0; i < MAX_PER_SENDER && !stopping && Date.now() < deadline; i++) {
          const body = statusWebhook({ wamid: `wamid.restart-${n}-${i}`, status: 'delivered', timestamp: 1764086460 + i })
          const startedAt = performance.now()
          const r = await call(`${base}/webhooks/whatsapp`, { method: 'POST', body, headers: signedHeaders(body) })
          sent.push({ body, startedAt, endedAt: performance.now(), ...r })
          // Meta backs off before redelivering; so does this sender, which keeps the 503s bounded.
          if (r.status !== 200) await new Promise((res) => setTimeout(res, 100))
        }
      }
      const watchReadiness = async () => {
        while (!stopping && Date.now() < deadline) {
          const r = await call(`${base}/readyz`)
          readiness.push({ at: performance.now(), status: r.status })
          await new Promise((res) => setTimeout(res, 50))
        }
      }
      const load = Promise.all([...Array.from({ length: SENDERS }, (_, n) => sender(n)), watchReadiness()])
      try {
        await waitFor('acknowledgements before the restart', () => acked(0) >= 100, deadline)

        // The restart: every connection cut, new ones refused for a few seconds.
        outageAt = performance.now()
        proxy.refuse()
        await Promise.all([
          waitFor('webhooks answered 503 during the outage', () => sent.some((s) => s.startedAt >= outageAt && s.status === 503), deadline),
          waitFor('/readyz 503 during the outage', () => readiness.some((r) => r.at >= outageAt && r.status === 503), deadline),
          new Promise((r) => setTimeout(r, OUTAGE_MS)), // how long the server stays away, not a proof
        ])
        proxy.accept()
        restoredAt = performance.now()

        await waitFor('acknowledgements after the restart', () => acked(restoredAt) >= 100, deadline)
        await waitFor('/readyz 200 after the restart', () => readiness.some((r) => r.at >= restoredAt && r.status === 200), deadline)
      } finally {
        stopping = true
        await load
      }

      // Every answer is a 200 or a 503 saying the database is away; nothing hung past the timeout.
      const odd = sent.filter((s) => s.status !== 200 && !(s.status === 503 && s.code === 'DATABASE_UNAVAILABLE'))
      expect(odd.map((s) => `${s.status} ${s.code ?? ''}`)).toEqual([])
      const refused = sent.filter((s) => s.status === 503)
      // Answers during the outage are 503; before it and after it, every body is acknowledged.
      expect(sent.filter((s) => s.startedAt >= outageAt && s.endedAt <= restoredAt).every((s) => s.status === 503)).toBe(true)
      expect(sent.filter((s) => s.endedAt < outageAt || s.startedAt >= restoredAt).every((s) => s.status === 200)).toBe(true)
      expect(refused.length).toBeGreaterThan(0)
      expect(acked(restoredAt)).toBeGreaterThanOrEqual(100)
      // Readiness went 503 during the outage and is 200 after it.
      expect(readiness.filter((r) => r.at >= outageAt && r.at <= restoredAt).some((r) => r.status === 503)).toBe(true)
      const lastReadiness = readiness.filter((r) => r.at > restoredAt)
      expect(lastReadiness.some((r) => r.status === 200)).toBe(true)
      expect(lastReadiness.slice(lastReadiness.findIndex((r) => r.status === 200)).every((r) => r.status === 200)).toBe(true)
      expect(await call(`${base}/readyz`)).toMatchObject({ status: 200 })

      // Acknowledged means stored: each acknowledged body is in the inbox exactly once, and no body
      // is there twice (one answered 503 may be stored, when the commit outran the cut).
      const { rows } = await tdb.db.query<{ body: string }>(`SELECT convert_from(body, 'UTF8') AS body FROM inbox WHERE source = 'whatsapp'`)
      const stored = new Map<string, number>()
      for (const r of rows) stored.set(r.body, (stored.get(r.body) ?? 0) + 1)
      const ackedBodies = sent.filter((s) => s.status === 200).map((s) => s.body)
      expect(ackedBodies.filter((b) => stored.get(b) !== 1)).toEqual([])
      expect([...stored.values()].every((n) => n === 1)).toBe(true)
      const sentBodies = new Set(sent.map((s) => s.body))
      expect([...stored.keys()].every((b) => sentBodies.has(b))).toBe(true)
      if (process.env.OUTAGE_TEST_VERBOSE) {
        console.info({
          sent: sent.length, acknowledged: ackedBodies.length, refused503: refused.length, stored: rows.length,
          storedThoughRefused: refused.filter((s) => stored.has(s.body)).length,
          ackedAfterRestart: acked(restoredAt), outageMs: Math.round(restoredAt - outageAt),
        })
      }
    } finally {
      await dispose()
    }
  })
})
