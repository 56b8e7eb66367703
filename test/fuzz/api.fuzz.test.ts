import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApp } from '../../connector/app.ts'
import { follow } from '../helpers/browser.ts'
import { NUMBER } from '../helpers/e2e-stack.ts'
import { freePort } from '../helpers/free-port.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig, TEST_APP_SECRET } from '../helpers/test-config.ts'
import { signedHeaders as metaSigned } from '../helpers/webhooks.ts'
import { startGraphSimulator, type GraphSimulator } from '../simulators/graph/graph-simulator.ts'
import { startHubSpotSimulator, type HubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'
import { signedHeaders as hubspotSigned } from '../simulators/hubspot/signatures.ts'

// Every operation of the built app's OpenAPI document, called with requests made from its own
// schemas and then spoiled: NUL characters, unpaired surrogates, huge values, wrong types, extra
// fields, random JSON. No answer may be a 5xx, and a 4xx writes nothing. Operations come from
// the document, so a route added later is fuzzed without editing this file.

const RUNS_PER_OPERATION = 60

interface Operation {
  method: string
  path: string
  params: Array<{ name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: JsonSchema }>
  body: JsonSchema | undefined
}
type JsonSchema = Record<string, any>

interface FuzzRequest {
  url: string
  headers: Record<string, string>
  payload?: string
}

let graph: GraphSimulator
let hubspot: HubSpotSimulator
let tdb: TestDatabase
let app: FastifyInstance
let hubspotSecret: string
let operations: Operation[]
const samples: Record<string, unknown[]> = {}
const tally = new Map<string, { tried: number; ok: number; clientError: number; serverError: number }>()

beforeAll(async () => {
  graph = await startGraphSimulator({ appSecret: TEST_APP_SECRET })
  graph.addNumber({ ...NUMBER, messagesPerSecond: 80, verifiedName: 'Acme Outdoor' })
  graph.addTemplate(NUMBER.wabaId, { name: 'spring_sale', language: 'en_US', category: 'MARKETING', components: [{ type: 'BODY', text: 'Hi {{1}}, take {{2}} off.' }] })
  hubspot = await startHubSpotSimulator()
  const portalId = hubspot.portals()[0]!.portalId
  hubspot.setAutoConsent({ portalId })
  const list = hubspot.seed({ portalId, contacts: 20, lists: [{ name: 'Fuzz', size: 10, processingType: 'MANUAL' }] }).lists[0]!
  const hsApp = hubspot.apps()[0]!
  hubspotSecret = hsApp.clientSecret
  tdb = await createTestDatabase()
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  app = await buildApp(testConfig({
    PORT: String(port), PUBLIC_URL: base, WHATSAPP_GRAPH_URL: graph.url,
    HUBSPOT_CLIENT_ID: hsApp.clientId, HUBSPOT_CLIENT_SECRET: hsApp.clientSecret, HUBSPOT_APP_ID: String(hsApp.appId),
    HUBSPOT_API_BASE: hubspot.url, HUBSPOT_AUTH_URL: `${hubspot.url}/oauth/authorize`,
  }), { db: tdb.db, workers: false })
  await app.listen({ port, host: '127.0.0.1' })
  expect((await follow(`${base}/oauth/hubspot/install`)).status).toBe(200)

  // Real ids, so spoiled requests reach past "not found" into the handlers.
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: adminHeaders, ...(body === undefined ? {} : { payload: body as object }) })
    return res.json()
  }
  const installationId = (await api('GET', '/installations'))[0].id as string
  const numberId = (await api('POST', '/whatsapp-numbers', { phoneNumberId: NUMBER.phoneNumberId, wabaId: NUMBER.wabaId, accessToken: NUMBER.accessToken })).id as string
  const segmentId = (await api('POST', '/segments', { installationId, name: 'Fuzz', source: { type: 'hubspot_list', id: String(list.listId) }, phoneProperties: ['mobilephone', 'phone'], defaultCountry: 'US' })).id as string
  // spring_sale counts as marketing (never synced here): it goes only to people who opted in.
  await api('POST', '/consent', { phone: '+14155552671', state: 'opted_in', evidence: { note: 'Fuzz recipient' } })
  const messageId = (await api('POST', '/messages', { numberId, to: '+14155552671', template: { name: 'spring_sale', language: 'en_US' }, bodyParameters: ['Ada', '10%'] })).id as string
  Object.assign(samples, {
    id: [installationId, numberId, segmentId, messageId], installationId: [installationId], numberId: [numberId], segmentId: [segmentId],
    crm: ['hubspot', 'salesforce'], phone: ['+14155552671', '+4915123456789'], to: ['+14155552671'], defaultCountry: ['US', 'DE'],
    name: ['spring_sale', 'Fuzz'], language: ['en_US'], state: ['opted_in', 'opted_out'], phoneProperties: [['mobilephone', 'phone']],
  })
  for (const id of [installationId, numberId, segmentId, messageId]) expect(id).toBeTypeOf('string')

  const doc = (await app.inject({ url: '/docs/json', headers: adminHeaders })).json()
  operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      params: (op.parameters ?? []) as Operation['params'],
      body: op.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined,
    })))
    // Deletions last: an uninstall early on would leave every later operation nothing to reach.
    .sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'))
}, 60_000)

afterAll(async () => {
  if (tally.size) {
    const rows = [...tally].map(([op, t]) => `${op.padEnd(58)} ${String(t.tried).padStart(5)} ${String(t.ok).padStart(5)} ${String(t.clientError).padStart(5)} ${String(t.serverError).padStart(5)}`)
    console.log(`fuzz: operation                                                tried   2xx   4xx   5xx\n${rows.join('\n')}`)
  }
  await app?.close()
  await hubspot?.close()
  await graph?.close()
  await tdb?.dispose()
})

// ---- values ------------------------------------------------------------------------------

const NASTY_STRINGS = ['\u0000', 'a\u0000b', '\ud800', 'x\udc00y', 'x'.repeat(100_000), '', ' ', '🙂'.repeat(50), "'; DROP TABLE installations; --", '%00', '../../etc/passwd', '\u202e', 'null', '-1', '1e309']
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(...NASTY_STRINGS),
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}, [null], { a: { b: { c: 1 } } }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
)

/** A value the schema accepts, using real ids and well-formed samples where the field is known by name. */
function valid(schema: JsonSchema, key?: string): fc.Arbitrary<unknown> {
  if (key && samples[key] && schema.type !== 'object') return fc.constantFrom(...samples[key]!)
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum)
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => valid(s, key)))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'string':
      if (schema.format === 'uuid') return fc.uuid()
      if (schema.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString())
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.max(schema.minLength ?? 0, Math.min(schema.maxLength ?? 12, 12)) })
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -5, max: schema.maximum ?? 1000 })
    case 'number':
      return fc.double({ min: schema.minimum ?? -5, max: schema.maximum ?? 1000, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array':
      return fc.array(valid(schema.items ?? {}, key), { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)) })
    case 'object': {
      const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)
      return fc.record(Object.fromEntries(properties.map(([k, s]) => [k, valid(s, k)])), { requiredKeys: (schema.required ?? []) as string[] }) as fc.Arbitrary<unknown>
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Every place in a JSON value that can be replaced: object keys and array indexes, nested. */
function places(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return []
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value)
  return entries.flatMap(([k, v]) => [[...prefix, k], ...places(v, [...prefix, k])])
}

function replaced(value: unknown, path: Array<string | number>, by: unknown): unknown {
  if (!path.length) return by
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) }
  copy[path[0]!] = replaced(copy[path[0]!], path.slice(1), by)
  return copy
}

/** A valid value with one place spoiled, an undeclared field added, or something else entirely. */
function spoiled(schema: JsonSchema): fc.Arbitrary<unknown> {
  const base = valid(schema)
  return fc.oneof(
    { arbitrary: base, weight: 1 },
    {
      arbitrary: fc.tuple(base, fc.nat(), nasty).map(([v, i, bad]) => {
        const where = places(v)
        return where.length ? replaced(v, where[i % where.length]!, bad) : bad
      }),
      weight: 4,
    },
    { arbitrary: fc.tuple(base, nasty).map(([v, bad]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...v, unexpectedField: bad } : v)), weight: 1 },
    { arbitrary: nasty, weight: 1 },
  )
}

/** Percent-encodes the UTF-8 bytes (an unpaired surrogate goes as U+FFFD, as any client would send it). */
const text = (value: unknown) => (value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value))
const encode = (value: unknown) => [...Buffer.from(text(value), 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('')

function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path')
  const queryParams = op.params.filter((p) => p.in === 'query')
  const param = (p: Operation['params'][number]) => fc.oneof(valid(p.schema, p.name), nasty, fc.constant('%ED%A0%80'))
  return fc.record({
    path: fc.tuple(...pathParams.map(param)),
    query: fc.tuple(...queryParams.map((p) => fc.option(param(p), { nil: undefined }))),
    extraQuery: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: nasty, weight: 1 }),
    body: op.body ? fc.option(spoiled(op.body), { nil: undefined, freq: 8 }) : fc.option(nasty, { nil: undefined, freq: 2 }),
    sign: fc.boolean(),
  }).map(({ path, query, extraQuery, body, sign }) => {
    let url = op.path
    pathParams.forEach((p, i) => {
      const v = path[i]
      url = url.replace(`{${p.name}}`, v === '%ED%A0%80' ? v : encode(v))
    })
    const search = queryParams.flatMap((p, i) => (query[i] === undefined ? [] : [`${p.name}=${query[i] === '%ED%A0%80' ? query[i] : encode(query[i])}`]))
    if (extraQuery !== undefined) search.push(`unexpected=${encode(extraQuery)}`)
    if (search.length) url += `?${search.join('&')}`
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> = { ...adminHeaders, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }
    if (sign && payload !== undefined && op.path === '/webhooks/whatsapp') Object.assign(headers, metaSigned(payload))
    if (sign && payload !== undefined && op.path === '/webhooks/hubspot') Object.assign(headers, hubspotSigned('v2', hubspotSecret, 'POST', `${app.services.config.publicUrl}${url}`, payload))
    return { url, headers, ...(payload === undefined ? {} : { payload }) }
  })
}

// ---- what must hold ------------------------------------------------------------------------

/** Row counts of every table: what a 4xx must leave as it was. */
async function rowCounts(): Promise<Record<string, number>> {
  const { rows: tables } = await tdb.db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  )
  const sql = tables.map((t) => `SELECT '${t.name}' AS name, count(*)::int AS n FROM "${t.name}"`).join(' UNION ALL ')
  const { rows } = await tdb.db.query<{ name: string; n: number }>(sql)
  return Object.fromEntries(rows.map((r) => [r.name, r.n]))
}

describe('fuzzing every operation of the OpenAPI document', () => {
  test('the document lists the API, webhooks and installs', () => {
    const names = operations.map((o) => `${o.method} ${o.path}`)
    expect(names).toEqual(expect.arrayContaining(['POST /api/v1/segments', 'POST /api/v1/consent', 'POST /webhooks/whatsapp', 'GET /oauth/{crm}/callback']))
  })

  test('no request answers 5xx, and a 4xx writes nothing', async () => {
    for (const op of operations) {
      if (op.path.startsWith('/docs')) continue
      const name = `${op.method} ${op.path}`
      const t = { tried: 0, ok: 0, clientError: 0, serverError: 0 }
      tally.set(name, t)
      await fc.assert(fc.asyncProperty(requestFor(op), async (req) => {
        await app.services.syncer.drain()
        const before = await rowCounts()
        const res = await app.inject({ method: op.method as 'GET', url: req.url, headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) })
        // A sync started by an earlier request may still be writing: let it finish first.
        await app.services.syncer.drain()
        t.tried++
        if (process.env.FUZZ_DEBUG && res.statusCode >= 400) console.log(name, req.url, res.statusCode, res.body.slice(0, 160))
        if (res.statusCode >= 500) t.serverError++
        else if (res.statusCode >= 400) t.clientError++
        else t.ok++
        expect(res.statusCode, `${name} ${req.url} ${req.payload?.slice(0, 300) ?? ''} → ${res.body.slice(0, 300)}`).toBeLessThan(500)
        if (res.statusCode >= 400) {
          expect(await rowCounts(), `${name} ${req.url} wrote on a ${res.statusCode}`).toEqual(before)
          if (String(res.headers['content-type']).startsWith('application/json')) {
            expect(res.json(), `${name} ${req.url}`).toMatchObject({ statusCode: res.statusCode, code: expect.any(String), message: expect.any(String) })
          }
        }
      }), { numRuns: RUNS_PER_OPERATION, seed: Number(process.env.FUZZ_SEED ?? 20261201), endOnFailure: true })
    }
  }, 600_000)
})
