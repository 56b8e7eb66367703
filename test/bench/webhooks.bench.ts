import autocannon from 'autocannon'
import Fastify from 'fastify'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { buildApp } from '../../connector/app.ts'
import { openDatabase, type Database } from '../../connector/db/database.ts'
import { withSearchPath } from '../helpers/test-database.ts'
import { testConfig, TEST_APP_SECRET } from '../helpers/test-config.ts'
import { signWebhookBody } from '../../connector/whatsapp/signature.ts'
import { runOpenLoop, type OpenLoopResult } from './open-loop-load.ts'

// `npm run bench:webhooks`: loopback load of signed status webhooks against the connector, each
// acknowledged only after its body is committed, first on the local PostgreSQL, then on PGlite;
// in the same run the same load against a bare Fastify route that answers 200, as a ratio.
// Bar (issue 3): ≥ 3,000 events/s sustained with p99 < 100 ms on a 2-core machine.

const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DURATION = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const TARGET_RATE = 3000

function statusBodies(n: number): autocannon.Request[] {
  const requests: autocannon.Request[] = []
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
        statuses: [{ id: `wamid.bench${Math.floor(i / 3)}`, status: ['sent', 'delivered', 'read'][i % 3], timestamp: String(1764086460 + i), recipient_id: `49151${String(Math.floor(i / 3)).padStart(8, '0')}`,
          pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' } }],
      } }] }],
    })
    requests.push({ method: 'POST', path: '/webhooks/whatsapp', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, TEST_APP_SECRET) } })
  }
  return requests
}

interface Run { rps: number; p99: number; p50: number; non2xx: number; errors: number; total2xx: number }

/** Closed loop at full speed (autocannon); its fixed-rate mode is unreliable with many distinct bodies. */
async function load(url: string, requests: autocannon.Request[], amount?: number): Promise<Run> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, requests, workers: 1, ...(amount ? { amount } : {}) })
  return { rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, non2xx: r.non2xx, errors: r.errors + r.timeouts, total2xx: r['2xx'] }
}

function sustained(url: string, requests: autocannon.Request[]): Promise<OpenLoopResult> {
  return runOpenLoop({
    url,
    rate: TARGET_RATE,
    seconds: DURATION,
    requests: requests.map((r) => ({ path: r.path!, body: r.body as string, headers: r.headers as Record<string, string> })),
  })
}

async function bareBaseline(requests: autocannon.Request[]): Promise<Run> {
  const bare = Fastify()
  bare.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
  bare.post('/webhooks/whatsapp', async () => ({ status: 'stored' }))
  await bare.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}`
  await load(url, requests, 2000) // warm-up
  const run = await load(url, requests)
  await bare.close()
  return run
}

/** One message per wamid in the load, so processing does the real work: statuses raise messages. */
async function seedMessages(db: Database, messages: number): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO whatsapp_numbers (phone_number_id, waba_id, display_phone_number, access_token_enc)
     VALUES ('106540352242922', '102290129340398', '15550783881', 'unused') RETURNING id`,
  )
  await db.query(
    `INSERT INTO messages (idempotency_key, number_id, recipient, kind, template_name, template_language, content, status, status_rank, wamid, accepted_at)
     SELECT 'bench-' || i, $1, '49151' || lpad(i::text, 8, '0'), 'template', 'spring_sale', 'en_US', '{}', 'accepted', 2, 'wamid.bench' || i, now()
     FROM generate_series(0, $2 - 1) AS i`,
    [rows[0]!.id, messages],
  )
}

async function connectorRun(label: string, db: Database, requests: autocannon.Request[], bare: Run) {
  const app = await buildApp(testConfig(), { db })
  await seedMessages(db, Math.ceil(requests.length / 3))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  await load(url, requests, 2000) // warm-up
  await drained(db)
  const before = await count(db)
  // The sustained run comes first, with the inbox processor draining alongside as in production.
  const fixed = await sustained(url, requests)
  const backlog = await pending(db)
  const max = await load(url, requests)
  const stored = (await count(db)) - before
  await app.close()
  const line = (name: string, value: string) => console.log(`${label.padEnd(10)} ${name.padEnd(44)} ${value}`)
  line('max throughput (events/s, 1 status per POST)', max.rps.toFixed(0))
  line('max throughput p50 / p99 latency (ms)', `${max.p50} / ${max.p99}`)
  line(`at ${TARGET_RATE}/s open loop: achieved events/s`, fixed.achievedRate.toFixed(0))
  line(`at ${TARGET_RATE}/s open loop: p50 / p99 / max (ms)`, `${fixed.p50} / ${fixed.p99} / ${fixed.max}`)
  line(`at ${TARGET_RATE}/s open loop: failed requests`, String(fixed.failed))
  line('max throughput: non-2xx / socket errors+timeouts', `${max.non2xx} / ${max.errors}`)
  line(`at ${TARGET_RATE}/s: inbox rows unprocessed at the end`, String(backlog))
  // Responses still in flight when a run ends are stored but not counted by autocannon.
  line('acknowledged <= rows stored', `${max.total2xx + fixed.ok} <= ${stored}`)
  line('throughput vs bare Fastify 200 route', `${(max.rps / bare.rps).toFixed(3)} (bare ${bare.rps.toFixed(0)}/s)`)
  line(`bar: >= ${TARGET_RATE}/s with p99 < 100 ms`, fixed.achievedRate >= TARGET_RATE * 0.97 && fixed.p99 < 100 && fixed.failed === 0 ? 'met' : 'NOT met')
}

async function drained(db: Database): Promise<void> {
  while ((await pending(db)) > 0) await new Promise((r) => setTimeout(r, 100))
}

async function pending(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE state = 'pending'`)
  return rows[0]!.n
}

async function count(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox')
  return rows[0]!.n
}

// Enough distinct bodies for the sustained run: every status is new work for the processor.
const requests = statusBodies(TARGET_RATE * DURATION)
console.log(`webhook intake benchmark: ${DURATION}s per run, ${CONNECTIONS} connections, autocannon in a worker thread, ${process.env.BENCH_SKIP_PG ? '' : 'PostgreSQL and '}PGlite`)
const bare = await bareBaseline(requests)
console.log(`${'bare'.padEnd(10)} ${'max throughput (requests/s)'.padEnd(44)} ${bare.rps.toFixed(0)}`)
console.log(`${'bare'.padEnd(10)} ${'p50 / p99 latency (ms)'.padEnd(44)} ${bare.p50} / ${bare.p99}`)

if (!process.env.BENCH_SKIP_PG) {
  const schema = `bench_${Date.now()}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const db = await openDatabase({ url: withSearchPath(PG_URL, schema), dataDir: '', poolSize: 10 })
  try {
    await connectorRun('postgres', db, requests, bare)
  } finally {
    await db.close()
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-pglite-'))
const lite = await openDatabase({ url: undefined, dataDir: dir })
try {
  await connectorRun('pglite', lite, requests, bare)
} finally {
  await lite.close()
}
