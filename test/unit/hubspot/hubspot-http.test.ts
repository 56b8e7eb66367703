import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { CrmError, type CrmCallObserver } from '../../../crm-adapters/crm-adapter.ts'
import { HubSpotHttp } from '../../../crm-adapters/hubspot/hubspot-http.ts'
import { HubSpotRateLimiter, type RateLimitOptions } from '../../../crm-adapters/hubspot/rate-limiter.ts'
import { API, fakeTokens, rejection, useNock, virtualClock } from './helpers.ts'

useNock()

// HubSpot's real 429 bodies (reference hubspot.md §2; same as the simulator's rate-limit-errors.ts).
const TEN_SECONDLY = {
  status: 'error',
  message: 'You have reached your ten_secondly_rolling limit.',
  errorType: 'RATE_LIMIT',
  correlationId: '2d6b3c1e-0000-4000-8000-000000000001',
  policyName: 'TEN_SECONDLY_ROLLING',
  groupName: 'publicapi:oauth:3102938:44312345',
}
const SECONDLY = { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', correlationId: 'c', policyName: 'SECONDLY', groupName: 'crm-search:44312345' }
const VALIDATION = {
  status: 'error',
  message: 'Property values were not valid: [{"isValid":false,"message":"Property \\"nope\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"nope"}]',
  correlationId: 'c',
  category: 'VALIDATION_ERROR',
}

interface Setup {
  rateLimit?: RateLimitOptions
}

function setup(options: Setup = {}) {
  const clock = virtualClock()
  const tokens = fakeTokens()
  const calls: Parameters<NonNullable<CrmCallObserver['onCall']>>[0][] = []
  const http = new HubSpotHttp({
    apiBase: API,
    tokens,
    clock,
    limiter: new HubSpotRateLimiter(options.rateLimit ?? {}, clock),
    observer: { onCall: (call) => calls.push(call) },
    retry: { attempts: 4, baseDelayMs: 100 },
  })
  return { http, clock, tokens, calls }
}

const READ = 'POST /crm/objects/2026-03/contacts/batch/read'

describe('HubSpotHttp', () => {
  it('sends the bearer token and JSON, and labels the call with ids templated out', async () => {
    const { http, calls } = setup()
    let sent: unknown
    nock(API)
      .matchHeader('authorization', 'Bearer token-1')
      .get('/crm/lists/2026-03/123/memberships')
      .query({ limit: '250', after: 'abc' })
      .reply(200, { results: [] })
    nock(API)
      .matchHeader('content-type', 'application/json')
      .post('/crm/objects/2026-03/contacts/batch/read', (body) => ((sent = body), true))
      .reply(200, { status: 'COMPLETE', results: [] })
    const page = await http.request('GET /crm/lists/2026-03/{listId}/memberships', { params: { listId: '123' }, query: { limit: 250, after: 'abc', before: undefined } })
    expect(page).toEqual({ status: 200, body: { results: [] }, calls: 1 })
    await http.request(READ, { body: { inputs: [{ id: '1' }] } })
    expect(sent).toEqual({ inputs: [{ id: '1' }] })
    expect(calls.map((c) => [c.crm, c.endpoint, c.status])).toEqual([
      ['hubspot', 'GET /crm/lists/2026-03/{listId}/memberships', 200],
      ['hubspot', READ, 200],
    ])
  })

  it('on 429 TEN_SECONDLY_ROLLING waits Retry-After, then succeeds', async () => {
    const { http, clock, calls } = setup()
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(429, TEN_SECONDLY, { 'Retry-After': '1' })
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(200, { status: 'COMPLETE', results: [] })
    const response = await http.request(READ, { body: { inputs: [] } })
    expect(response.calls).toBe(2)
    expect(clock.sleeps).toEqual([1_000])
    expect(calls.map((c) => c.status)).toEqual([429, 200])
  })

  it('without Retry-After waits by policy: 10 s for the burst limit, 1 s for search', async () => {
    const { http, clock } = setup()
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(429, TEN_SECONDLY)
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(200, {})
    nock(API).post('/crm/objects/2026-03/contacts/search').reply(429, SECONDLY)
    nock(API).post('/crm/objects/2026-03/contacts/search').reply(200, {})
    await http.request(READ, { body: {} })
    await http.request('POST /crm/objects/2026-03/contacts/search', { body: {}, search: true })
    expect(clock.sleeps.filter((ms) => ms >= 1_000)).toEqual([10_000, 1_000])
  })

  it('gives up on 429 after the attempts, as RATE_LIMITED with the policy', async () => {
    const { http } = setup()
    const scope = nock(API).post('/crm/objects/2026-03/contacts/batch/read').times(4).reply(429, TEN_SECONDLY, { 'Retry-After': '2' })
    const error = await rejection(http.request(READ, { body: {} }))
    expect(error).toBeInstanceOf(CrmError)
    expect(error).toMatchObject({ code: 'RATE_LIMITED', platformCode: 'TEN_SECONDLY_ROLLING', httpStatus: 429, retryable: true, retryAfterMs: 2_000 })
    expect(scope.isDone()).toBe(true)
  })

  it('on 401 refreshes once through the TokenSource and retries with the new token', async () => {
    const { http, tokens, calls } = setup()
    nock(API)
      .matchHeader('authorization', 'Bearer token-1')
      .get('/crm/lists/2026-03/9')
      .reply(401, { status: 'error', message: 'The OAuth token used to make this call expired 3 second(s) ago.', category: 'EXPIRED_AUTHENTICATION' })
    nock(API).matchHeader('authorization', 'Bearer token-2').get('/crm/lists/2026-03/9').reply(200, { list: { listId: '9' } })
    const response = await http.request('GET /crm/lists/2026-03/{listId}', { params: { listId: '9' } })
    expect(response).toMatchObject({ status: 200, calls: 2 })
    expect(tokens.rejected).toEqual(['token-1'])
    expect(calls.map((c) => c.status)).toEqual([401, 200])
  })

  it('a second 401 is UNAUTHORIZED, after exactly one refresh', async () => {
    const { http, tokens } = setup()
    nock(API).get('/crm/lists/2026-03/9').times(2).reply(401, { status: 'error', message: 'The OAuth token used to make this call is invalid or has been revoked.', category: 'INVALID_AUTHENTICATION' })
    const error = await rejection(http.request('GET /crm/lists/2026-03/{listId}', { params: { listId: '9' } }))
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', platformCode: 'INVALID_AUTHENTICATION', retryable: false })
    expect(tokens.rejected).toEqual(['token-1'])
  })

  it('passes on a CrmError the TokenSource throws (e.g. INVALID_GRANT)', async () => {
    const tokens = {
      accessToken: async () => 'old',
      refreshAfterRejection: async () => {
        throw new CrmError({ crm: 'hubspot', code: 'INVALID_GRANT', message: 'refresh token revoked' })
      },
    }
    const withFailingRefresh = new HubSpotHttp({ apiBase: API, tokens, limiter: new HubSpotRateLimiter(), clock: virtualClock() })
    nock(API).get('/crm/lists/2026-03/9').reply(401, { status: 'error', category: 'INVALID_AUTHENTICATION' })
    expect(await rejection(withFailingRefresh.request('GET /crm/lists/2026-03/{listId}', { params: { listId: '9' } }))).toMatchObject({ code: 'INVALID_GRANT' })
  })

  it('retries 5xx with growing, jittered backoff', async () => {
    const { http, clock } = setup()
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(503, 'upstream unavailable')
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(500, { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' })
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(200, { results: [] })
    expect((await http.request(READ, { body: {} })).calls).toBe(3)
    const [first = 0, second = 0] = clock.sleeps.filter((ms) => ms >= 50)
    expect(first).toBeGreaterThanOrEqual(50)
    expect(first).toBeLessThanOrEqual(100)
    expect(second).toBeGreaterThanOrEqual(100)
    expect(second).toBeLessThanOrEqual(200)
  })

  it('gives up on 5xx after the attempts with a retryable SERVER_ERROR', async () => {
    const { http, calls } = setup()
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').times(4).reply(502, 'Bad Gateway')
    expect(await rejection(http.request(READ, { body: {} }))).toMatchObject({ code: 'SERVER_ERROR', httpStatus: 502, retryable: true })
    expect(calls).toHaveLength(4)
  })

  it('does not retry a 400 VALIDATION_ERROR: exactly one call', async () => {
    const { http, calls, clock } = setup()
    const scope = nock(API).post('/crm/objects/2026-03/contacts/batch/update').reply(400, VALIDATION)
    nock(API).post('/crm/objects/2026-03/contacts/batch/update').reply(200, {})
    const error = await rejection(http.request('POST /crm/objects/2026-03/contacts/batch/update', { body: {} }))
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', platformCode: 'VALIDATION_ERROR', httpStatus: 400, retryable: false })
    expect(calls).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
    expect(scope.isDone()).toBe(true)
    expect(nock.pendingMocks()).toHaveLength(1)
  })

  it('maps 403 MISSING_SCOPES and 404', async () => {
    const { http } = setup()
    nock(API).get('/crm/properties/2026-03/contacts').reply(403, { status: 'error', message: "This app hasn't been granted all required scopes", category: 'MISSING_SCOPES' })
    nock(API).get('/crm/lists/2026-03/404').reply(404, { status: 'error', message: 'List does not exist', category: 'OBJECT_NOT_FOUND' })
    expect(await rejection(http.request('GET /crm/properties/2026-03/contacts'))).toMatchObject({ code: 'MISSING_SCOPES', httpStatus: 403 })
    expect(await rejection(http.request('GET /crm/lists/2026-03/{listId}', { params: { listId: '404' } }))).toMatchObject({ code: 'NOT_FOUND', platformCode: 'OBJECT_NOT_FOUND' })
  })

  it('retries network failures, and reports them to the observer as error', async () => {
    const { http, calls } = setup()
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').replyWithError('socket hang up')
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(200, { results: [] })
    expect((await http.request(READ, { body: {} })).calls).toBe(2)
    expect(calls.map((c) => c.status)).toEqual(['error', 200])
  })

  it('does not repeat a create after a 5xx or a network failure, but does after a 429', async () => {
    const { http } = setup()
    const create = 'POST /crm/objects/2026-03/communications/batch/create'
    nock(API).post('/crm/objects/2026-03/communications/batch/create').reply(500, { status: 'error', category: 'INTERNAL_ERROR' })
    expect(await rejection(http.request(create, { body: {}, idempotent: false }))).toMatchObject({ code: 'SERVER_ERROR', retryable: true })
    nock(API).post('/crm/objects/2026-03/communications/batch/create').replyWithError('socket hang up')
    expect(await rejection(http.request(create, { body: {}, idempotent: false }))).toMatchObject({ code: 'NETWORK_ERROR', retryable: true })
    nock(API).post('/crm/objects/2026-03/communications/batch/create').reply(429, TEN_SECONDLY, { 'Retry-After': '1' })
    nock(API).post('/crm/objects/2026-03/communications/batch/create').reply(201, { results: [] })
    expect((await http.request(create, { body: {}, idempotent: false })).calls).toBe(2)
  })

  it('keeps tokens and listed values out of error messages', async () => {
    const { http } = setup()
    nock(API)
      .patch('/crm/objects/2026-03/contacts/%2B4915112345678')
      .query({ idProperty: 'phone' })
      .reply(400, { status: 'error', message: 'token-1 cannot update +4915112345678', category: 'VALIDATION_ERROR' })
    const error = (await rejection(
      http.request('PATCH /crm/objects/2026-03/contacts/{contactId}', { params: { contactId: '+4915112345678' }, query: { idProperty: 'phone' }, body: {}, redact: ['+4915112345678'] }),
    )) as CrmError
    expect(error.message).toContain('{contactId}')
    expect(error.message).not.toContain('token-1')
    expect(error.message).not.toContain('4915112345678')
  })

  it('keeps 150 rapid calls under the configured rate, as the server sees them', async () => {
    const { http, clock } = setup({ rateLimit: { burst: { max: 20, intervalMs: 1_000 } } })
    const arrivals: number[] = []
    nock(API)
      .post('/crm/objects/2026-03/contacts/batch/read')
      .times(150)
      .reply(() => {
        arrivals.push(clock.now())
        return [200, { results: [] }]
      })
    await Promise.all(Array.from({ length: 150 }, () => http.request(READ, { body: {} })))
    expect(arrivals).toHaveLength(150)
    const sorted = arrivals.sort((a, b) => a - b)
    for (let i = 20; i < sorted.length; i++) expect((sorted[i] ?? 0) - (sorted[i - 20] ?? 0)).toBeGreaterThanOrEqual(1_000)
    // No needless slowness either: 150 calls at 20 per second take a little over 7 s.
    expect((sorted.at(-1) ?? 0) - (sorted[0] ?? 0)).toBeLessThan(8_000)
  })
})
