import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApp } from '../../connector/app.ts'
import { CONSENT_LOG_PAGE_SIZE, recordConsentEvent, recordConsentEvents } from '../../connector/consent/consent-ledger.ts'
import type { Database } from '../../connector/db/database.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'

// GET /api/v1/consent/export on real SQL: RFC 4180 escaping with formula injection neutralised,
// the range, and paging. The route reads the log one page at a time (every query that reads
// consent_events for it is counted), and the body arrives as a stream, read here incrementally.

let tdb: TestDatabase
let app: FastifyInstance
let url: string
/** Rows returned by each export page query, in order. */
const pageReads: number[] = []

beforeAll(async () => {
  tdb = await createTestDatabase()
  const counted = new Proxy(tdb.db, {
    get(target, prop) {
      if (prop !== 'query') {
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return async (text: string, params?: unknown[]) => {
        const result = await target.query(text, params)
        if (/FROM consent_events e\s+WHERE \(\$1::timestamptz IS NULL/.test(text)) pageReads.push(result.rows.length)
        return result
      }
    },
  }) as Database
  app = await buildApp(testConfig(), { db: counted, workers: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/consent/export`
})
afterAll(async () => {
  await app?.close()
  await tdb?.dispose()
})

/** RFC 4180 parsing, to check the export round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++ }
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') { row.push(field); field = '' }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++ }
    else field += c
  }
  expect(field).toBe('')
  return rows
}

const clear = () => tdb.db.query('TRUNCATE consent_events')
const exportText = async (query = '') => {
  const res = await fetch(`${url}${query}`, { headers: adminHeaders })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

describe('format', () => {
  test('a header row, one event a row, fields escaped and formulas neutralised', async () => {
    await clear()
    const installationId = '00000000-0000-4000-8000-000000000001'
    await recordConsentEvents(tdb.db, [
      { phone: '+4915123456789', installationId, state: 'opted_in', source: 'manual', evidence: { note: 'Said "yes", at the till\nsecond line' }, occurredAt: new Date('2026-03-01T10:00:00Z') },
      { phone: '+4915123456790', state: 'opted_out', source: '=HYPERLINK("http://evil.example","x")', evidence: {}, occurredAt: new Date('2026-03-01T11:00:00Z') },
      { phone: '+4915123456791', state: 'opted_out', source: '@SUM(1,2)', evidence: { a: 1 }, occurredAt: new Date('2026-03-01T12:00:00Z') },
      { phone: '+4915123456792', state: 'opted_in', source: '-1+2', evidence: { b: 'x' }, occurredAt: new Date('2026-03-01T13:00:00Z') },
    ])
    // A user who hides their phone is named by their WhatsApp user id.
    const { rows: users } = await tdb.db.query<{ id: string }>(`INSERT INTO whatsapp_users (business_portfolio_id, user_id) VALUES ('bp-1', 'US.13491208655302741918') RETURNING id`)
    await recordConsentEvent(tdb.db, { whatsappUserId: users[0]!.id, state: 'opted_out', source: 'whatsapp_keyword', evidence: {}, occurredAt: new Date('2026-03-01T14:00:00Z') })
    const r = await exportText()
    expect(r.status).toBe(200)
    expect(r.type).toBe('text/csv; charset=utf-8')
    const rows = parseCsv(r.text)
    expect(rows[0]).toEqual(['state', 'source', 'occurred_at', 'recorded_at', 'installation_id', 'phone_or_user_id', 'evidence'])
    expect(rows).toHaveLength(6)
    const [, first, second, third, fourth, fifth] = rows
    expect(fifth!.slice(0, 3)).toEqual(['opted_out', 'whatsapp_keyword', '2026-03-01T14:00:00.000Z'])
    expect(fifth![5]).toBe('US.13491208655302741918')
    expect(first!.slice(0, 3)).toEqual(['opted_in', 'manual', '2026-03-01T10:00:00.000Z'])
    expect(first![4]).toBe(installationId)
    expect(first![5]).toBe("'+4915123456789")
    expect(JSON.parse(first![6]!)).toEqual({ note: 'Said "yes", at the till\nsecond line' })
    expect(new Date(first![3]!).getTime()).not.toBeNaN()
    expect(second![1]).toBe('\'=HYPERLINK("http://evil.example","x")')
    expect(second![4]).toBe('')
    expect(third![1]).toBe("'@SUM(1,2)")
    expect(fourth![1]).toBe("'-1+2")
    expect(r.text).toContain('"{""note"":""Said \\""yes\\"", at the till\\nsecond line""}"')
    // No field of the export starts a formula.
    for (const row of rows) for (const field of row) expect(field).not.toMatch(/^[=+\-@]/)
  })

  test('from and to bound the recorded time, [from, to); from after to is 400', async () => {
    await clear()
    await recordConsentEvents(tdb.db, [{ phone: '+4915100000001', state: 'opted_in', source: 'manual', evidence: {}, occurredAt: new Date() }])
    const { rows } = await tdb.db.query<{ at: Date }>('SELECT recorded_at AS at FROM consent_events')
    const at = rows[0]!.at.getTime()
    const iso = (ms: number) => new Date(ms).toISOString()
    const count = async (q: string) => parseCsv((await exportText(q)).text).length - 1
    expect(await count(`?from=${iso(at - 1000)}&to=${iso(at + 1000)}`)).toBe(1)
    expect(await count(`?from=${iso(at + 1000)}`)).toBe(0)
    expect(await count(`?to=${iso(at - 1000)}`)).toBe(0)
    expect(await count(`?to=${iso(at + 1000)}`)).toBe(1)
    const bad = await fetch(`${url}?from=${iso(at + 1000)}&to=${iso(at)}`, { headers: adminHeaders })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ code: 'INVALID_RANGE' })
    expect((await fetch(`${url}?from=yesterday`, { headers: adminHeaders })).status).toBe(400)
  })
})

describe('size', () => {
  const TOTAL = 20_000

  test('20,000 events stream out of pages of at most 1,000 events, never the whole log at once', async () => {
    await clear()
    // One statement, so every event shares recorded_at: the keyset's id breaks the ties.
    await tdb.db.query(
      `INSERT INTO consent_events (phone, match_key, state, source, evidence, occurred_at)
       SELECT '+49151' || lpad(g::text, 8, '0'), '49151' || lpad(g::text, 8, '0'), CASE WHEN g % 2 = 0 THEN 'opted_in' ELSE 'opted_out' END,
              'bulk', jsonb_build_object('n', g, 'note', 'row ' || g || ', "quoted"'), now() - make_interval(secs => g)
       FROM generate_series(1, $1::int) AS g`,
      [TOTAL],
    )
    pageReads.length = 0
    const res = await fetch(url, { headers: adminHeaders })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let rows = 0
    let chunks = 0
    let tail = ''
    const consume = (chunk: Uint8Array) => {
      chunks++
      // Rows here hold no line break inside a field, so CRLF counts rows.
      const text = tail + decoder.decode(chunk, { stream: true })
      const parts = text.split('\r\n')
      tail = parts.pop()!
      rows += parts.length
    }
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      consume(value)
    }
    expect(tail).toBe('')
    expect(rows).toBe(TOTAL + 1)
    expect(pageReads.every((n) => n <= CONSENT_LOG_PAGE_SIZE)).toBe(true)
    expect(pageReads.reduce((a, b) => a + b, 0)).toBe(TOTAL)
    expect(pageReads.length).toBeGreaterThanOrEqual(TOTAL / CONSENT_LOG_PAGE_SIZE)
    expect(chunks).toBeGreaterThan(1)
  }, 60_000)
})
