import http from 'node:http'
import { TEST_APP_SECRET } from '../helpers/test-config.ts'
import { signedHeaders } from '../helpers/webhooks.ts'
import { startConnectorProcess } from './connector-process.ts'

// `npm run bench:flood`: the connector (child process, embedded PGlite) under a flood of webhook
// bodies with bad signatures, sent over loopback: 10,000 bodies of 16 KB, 100 at a time, then
// 200 bodies of 2.9 MB, 50 at a time; three rounds. Prints the connector's resident memory before
// and after each round and at its peak, and how many answers were 401 (read, refused) and 503
// (turned away unread, the connection closed). Bar (issue 13): memory stays flat: what the process
// retains after a full collection ends within the in-flight budget of where it was before the flood
// (RSS keeps the allocator's high-water mark, which the budget bounds).
// BENCH_FLOOD (default 10000) changes the count of small bodies per round.

const FLOOD = Number(process.env.BENCH_FLOOD ?? 10_000)
const MB = 1024 * 1024
const agent = new http.Agent({ keepAlive: true, maxSockets: 100 })

function post(base: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(`${base}/webhooks/whatsapp`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    // A connector that refuses before reading may close the socket under a large body.
    req.on('error', () => resolve(-1))
    req.end(body)
  })
}

async function pool(count: number, concurrency: number, run: () => Promise<number>): Promise<Map<number, number>> {
  const codes = new Map<number, number>()
  let started = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (started < count) {
      started++
      const code = await run()
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
  }))
  return codes
}

const line = (name: string, value: string) => console.log(`${name.padEnd(56)} ${value}`)
const show = (codes: Map<number, number>) => [...codes].sort().map(([c, n]) => `${c === -1 ? 'reset' : c}: ${n}`).join(', ')

const c = await startConnectorProcess({ DATABASE_URL: 'memory://', WHATSAPP_APP_SECRET: TEST_APP_SECRET })
try {
  const bad = { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }
  const small = Buffer.alloc(16 * 1024, 0x20)
  const large = Buffer.alloc(Math.floor(2.9 * MB), 0x20)
  // Warm up (JIT, pools), then take the baseline.
  await pool(500, 50, () => post(c.base, small, bad))
  const signed = Buffer.from('{"object":"whatsapp_business_account","entry":[]}')
  await pool(50, 10, () => post(c.base, signed, signedHeaders(signed)))
  const baseline = await c.rss()
  const retainedBefore = await c.retained()
  const resettable = c.resetPeak()

  // Memory is flat when a second and third round add nothing to what the first one took.
  const rounds: Array<{ name: string; rss: number; retained: number; codes: Map<number, number>; seconds: number }> = []
  for (let round = 1; round <= 3; round++) {
    let t0 = Date.now()
    const floodCodes = await pool(FLOOD, 100, () => post(c.base, small, bad))
    rounds.push({ name: `round ${round}: ${FLOOD} bad signatures, 16 KB, 100 at a time`, rss: await c.rss(), retained: await c.retained(), codes: floodCodes, seconds: (Date.now() - t0) / 1000 })
    t0 = Date.now()
    const largeCodes = await pool(200, 50, () => post(c.base, large, bad))
    rounds.push({ name: `round ${round}: 200 bad signatures, 2.9 MB, 50 at a time`, rss: await c.rss(), retained: await c.retained(), codes: largeCodes, seconds: (Date.now() - t0) / 1000 })
  }
  const peak = c.peak()
  const mb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / MB).toFixed(1)} MB`
  line('connector before (embedded PGlite in memory)', `RSS ${(baseline / MB).toFixed(1)} MB, retained after GC ${(retainedBefore / MB).toFixed(1)} MB`)
  for (const r of rounds) line(r.name, `${r.seconds.toFixed(1)} s; ${show(r.codes)}; RSS ${mb(r.rss - baseline)}, retained ${mb(r.retained - retainedBefore)}`)
  if (resettable && peak) line('connector RSS peak', `${(peak / MB).toFixed(1)} MB (+${((peak - baseline) / MB).toFixed(1)} MB)`)
  const refusedAll = rounds.every((r) => [...r.codes.keys()].every((code) => code === 401 || code === 503 || code === -1))
  line('every bad body refused (401 read, 503 unread), none stored', refusedAll ? 'yes' : 'NO')
  const retainedGrowth = rounds[5]!.retained - retainedBefore
  // Retained memory moves by tens of MB between collections even at rest (PGlite's heap); the
  // budget bounds what a flood can add to 32 MB.
  line('bar: retained memory after all rounds within 32 MB of before', `${mb(retainedGrowth)}: ${retainedGrowth < 32 * MB ? 'met' : 'NOT met'}`)
  const rssGrowth = rounds[5]!.rss - rounds[3]!.rss
  line('round 3 adds to the RSS of round 2', mb(rssGrowth))
} finally {
  await c.close()
  agent.destroy()
}
