import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import { API, limitInfo, makeAdapter, queryBody, row, sf, sfId, rejection } from './helpers.ts'

// The transport rules every adapter call goes through, exercised via readRecords (background)
// and getSegmentSource (interactive).

const CONTACT = sfId('003', 1)
const CAMPAIGN = sfId('701', 1)
const contactQuery = { q: `SELECT Id, SystemModstamp, MobilePhone FROM Contact WHERE Id IN ('${CONTACT}')` }
const contactRow = row('Contact', CONTACT, { SystemModstamp: '2025-03-01T10:00:00.000+0000', MobilePhone: '+44 7700 900123' })
const sessionExpired = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]
const limitExceeded = [{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]

beforeAll(() => nock.disableNetConnect())
afterEach(() => {
  nock.cleanAll()
  vi.useRealTimers()
})
afterAll(() => nock.enableNetConnect())

const readContact = (adapter: ReturnType<typeof makeAdapter>['adapter']) => adapter.readRecords([{ id: CONTACT, objectType: 'contact' }], ['MobilePhone'])

describe('401 INVALID_SESSION_ID', () => {
  it('refreshes once through the token source and retries with the new token', async () => {
    const { adapter, calls, rejected } = makeAdapter()
    const scope = sf()
      .get(`${API}/query`).query(contactQuery).matchHeader('authorization', 'Bearer token-1').reply(401, sessionExpired)
      .get(`${API}/query`).query(contactQuery).matchHeader('authorization', 'Bearer token-2').reply(200, queryBody([contactRow]), limitInfo(12))
    const records = await readContact(adapter)
    scope.done()
    expect(records).toEqual([{ id: CONTACT, objectType: 'contact', properties: { MobilePhone: '+44 7700 900123' }, updatedAt: '2025-03-01T10:00:00.000Z' }])
    expect(rejected).toEqual(['token-1'])
    expect(calls).toEqual([{ endpoint: 'query', status: 401 }, { endpoint: 'query', status: 200 }])
  })

  it('a second 401 after the refresh is UNAUTHORIZED, with no second refresh', async () => {
    const { adapter, calls, rejected } = makeAdapter()
    sf().get(`${API}/query`).query(contactQuery).times(2).reply(401, sessionExpired)
    const error = await rejection(readContact(adapter))
    expect(error.code).toBe('UNAUTHORIZED')
    expect(error.platformCode).toBe('INVALID_SESSION_ID')
    expect(error.message).not.toMatch(/token-[12]/)
    expect(rejected).toEqual(['token-1'])
    expect(calls).toHaveLength(2)
  })

  it('a failed refresh (the installation was revoked) surfaces as the token source threw it', async () => {
    const { adapter } = makeAdapter({
      tokens: {
        accessToken: async () => 'token-1',
        refreshAfterRejection: async () => {
          throw new CrmError({ crm: 'salesforce', code: 'INVALID_GRANT', message: 'expired access/refresh token' })
        },
      },
    })
    sf().get(`${API}/query`).query(contactQuery).reply(401, sessionExpired)
    expect((await rejection(readContact(adapter))).code).toBe('INVALID_GRANT')
  })
})

describe('REQUEST_LIMIT_EXCEEDED', () => {
  it('is retried with backoff, then surfaced as retryable once the retries are spent', async () => {
    const { adapter, calls } = makeAdapter()
    sf().get(`${API}/query`).query(contactQuery).times(3).reply(403, limitExceeded, limitInfo(5_000))
    const error = await rejection(readContact(adapter))
    expect(error.code).toBe('REQUEST_LIMIT_EXCEEDED')
    expect(error.retryable).toBe(true)
    expect(error.retryAfterMs).toBe(60_000)
    expect(error.httpStatus).toBe(403)
    expect(calls).toEqual(Array(3).fill({ endpoint: 'query', status: 403 }))
  })

  it('succeeds when a retry gets through', async () => {
    const { adapter, calls } = makeAdapter()
    sf()
      .get(`${API}/query`).query(contactQuery).reply(403, limitExceeded)
      .get(`${API}/query`).query(contactQuery).reply(200, queryBody([contactRow]))
    expect(await readContact(adapter)).toHaveLength(1)
    expect(calls.map((c) => c.status)).toEqual([403, 200])
  })

  it('is surfaced at once when Sforce-Limit-Info shows the daily allocation spent', async () => {
    const { adapter, calls } = makeAdapter()
    sf().get(`${API}/query`).query(contactQuery).reply(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], limitInfo(100_000))
    const error = await rejection(readContact(adapter))
    expect(error.code).toBe('REQUEST_LIMIT_EXCEEDED')
    expect(error.retryAfterMs).toBe(15 * 60_000)
    expect(calls).toHaveLength(1)
  })
})

describe('other failures', () => {
  it('5xx is retried and the retry answers', async () => {
    const { adapter, calls } = makeAdapter()
    sf()
      .get(`${API}/query`).query(contactQuery).reply(503, [{ message: 'Server unavailable', errorCode: 'SERVER_UNAVAILABLE' }])
      .get(`${API}/query`).query(contactQuery).reply(500, '<html>oops</html>')
      .get(`${API}/query`).query(contactQuery).reply(200, queryBody([contactRow]))
    expect(await readContact(adapter)).toHaveLength(1)
    expect(calls.map((c) => c.status)).toEqual([503, 500, 200])
  })

  it('5xx on every attempt is a retryable SERVER_ERROR after retries + 1 calls', async () => {
    const { adapter, calls } = makeAdapter({ retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 2 } })
    sf().get(`${API}/query`).query(contactQuery).times(4).reply(500, [{ message: 'An unexpected error occurred', errorCode: 'UNKNOWN_EXCEPTION' }])
    const error = await rejection(readContact(adapter))
    expect(error).toMatchObject({ code: 'SERVER_ERROR', retryable: true, platformCode: 'UNKNOWN_EXCEPTION', httpStatus: 500 })
    expect(calls).toHaveLength(4)
  })

  it('400 INVALID_FIELD is not retried: exactly one call, Salesforce errorCode as platformCode', async () => {
    const { adapter, calls } = makeAdapter()
    const scope = sf().get(`${API}/query`).query(contactQuery).reply(400, [{
      message: "No such column 'MobilePhone' on entity 'Contact'.", errorCode: 'INVALID_FIELD',
    }])
    const error = await rejection(readContact(adapter))
    scope.done()
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', platformCode: 'INVALID_FIELD', httpStatus: 400, retryable: false })
    expect(error.message).toContain("No such column 'MobilePhone'")
    expect(calls).toEqual([{ endpoint: 'query', status: 400 }])
  })

  it('network errors are retried, then NETWORK_ERROR', async () => {
    const { adapter, calls } = makeAdapter()
    sf().get(`${API}/query`).query(contactQuery).times(3).replyWithError('socket hang up')
    const error = await rejection(readContact(adapter))
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', retryable: true })
    expect(calls).toEqual(Array(3).fill({ endpoint: 'query', status: 'error' }))
  })
})

describe('Sforce-Limit-Info and the daily-limit guard', () => {
  const campaignQuery = { q: `SELECT Id, Name, NumberOfContacts, NumberOfLeads FROM Campaign WHERE Id = '${CAMPAIGN}'` }
  const campaign = row('Campaign', CAMPAIGN, { Name: 'Spring', NumberOfContacts: 3, NumberOfLeads: 1 })

  it('reports usage from every response, errors included', async () => {
    const { adapter, usage } = makeAdapter()
    sf()
      .get(`${API}/query`).query(contactQuery).reply(503, [{ message: 'x', errorCode: 'SERVER_UNAVAILABLE' }], limitInfo(41))
      .get(`${API}/query`).query(contactQuery).reply(200, queryBody([contactRow]), { 'Sforce-Limit-Info': 'api-usage=42/100000, api-bursts=1/750' })
    await readContact(adapter)
    expect(usage).toEqual([{ used: 41, max: 100_000 }, { used: 42, max: 100_000 }])
  })

  it('at 90% of the allocation, background calls fail fast without a request; interactive ones go on', async () => {
    const { adapter, calls } = makeAdapter()
    sf().get(`${API}/query`).query(contactQuery).reply(200, queryBody([contactRow]), limitInfo(90_000))
    await readContact(adapter)
    expect(calls).toHaveLength(1)

    const error = await rejection(readContact(adapter))
    expect(error).toMatchObject({ code: 'DAILY_LIMIT_GUARD', retryable: true })
    expect(error.retryAfterMs).toBeGreaterThan(0)
    expect(error.message).toContain('90000/100000')
    expect(calls).toHaveLength(1)

    sf().get(`${API}/query`).query(campaignQuery).reply(200, queryBody([campaign]), limitInfo(90_001))
    expect(await adapter.getSegmentSource({ type: 'salesforce_campaign', id: CAMPAIGN })).toEqual({ type: 'salesforce_campaign', id: CAMPAIGN, name: 'Spring', size: 4 })
    expect(calls).toHaveLength(2)
  })

  it('below the guard background calls continue; the fraction is configurable', async () => {
    const { adapter } = makeAdapter()
    sf().get(`${API}/query`).query(contactQuery).times(2).reply(200, queryBody([contactRow]), limitInfo(89_999))
    await readContact(adapter)
    expect(await readContact(adapter)).toHaveLength(1)

    const strict = makeAdapter({ dailyLimitGuard: 0.5 })
    sf().get(`${API}/query`).query(contactQuery).reply(200, queryBody([contactRow]), limitInfo(50_000))
    await readContact(strict.adapter)
    expect((await rejection(readContact(strict.adapter))).code).toBe('DAILY_LIMIT_GUARD')
  })

  it('a reading older than five minutes no longer holds background work back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { adapter, calls } = makeAdapter()
    sf().get(`${API}/query`).query(contactQuery).times(2).reply(200, queryBody([contactRow]), limitInfo(95_000))
    await readContact(adapter)
    vi.setSystemTime(Date.now() + 4 * 60_000)
    expect((await rejection(readContact(adapter))).code).toBe('DAILY_LIMIT_GUARD')
    vi.setSystemTime(Date.now() + 60_000)
    await readContact(adapter)
    expect(calls).toHaveLength(2)
  })
})
