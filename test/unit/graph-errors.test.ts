import { describe, expect, it } from 'vitest'
import { GraphError, GraphTransportError, HALTING_CODES, retryAdvice, type RetryAdvice } from '../../connector/whatsapp/graph-errors.ts'

// Reference whatsapp.md §2.2 code table (retry column) and rules of thumb.
const TABLE: Array<[number, RetryAdvice]> = [
  [130429, 'retry'], [131056, 'retry'], [4, 'retry'], [80007, 'retry'], [131000, 'retry'], [131016, 'retry'], [131057, 'retry'],
  [131049, 'later'], [131048, 'later'],
  [131026, 'never'], [131047, 'never'], [131050, 'never'],
  [190, 'fix'], [0, 'fix'], [131031, 'fix'], [132001, 'fix'], [132000, 'fix'], [100, 'fix'],
  [3, 'fix'], [10, 'fix'], [131030, 'fix'], [132015, 'later'], [132016, 'never'], [131021, 'never'],
]

describe('retryAdvice', () => {
  it.each(TABLE)('code %i → %s (HTTP 400)', (code, advice) => {
    expect(retryAdvice(code, 400)).toBe(advice)
  })

  it.each(TABLE)('code %i → %s regardless of a 5xx status', (code, advice) => {
    // The code decides; HTTP status only matters for codes the table does not know.
    expect(retryAdvice(code, 503)).toBe(advice)
  })

  it('an unknown code is retried on HTTP 5xx and 429', () => {
    expect(retryAdvice(987654, 503)).toBe('retry')
    expect(retryAdvice(987654, 500)).toBe('retry')
    expect(retryAdvice(987654, 429)).toBe('retry')
  })

  it('an unknown code on 4xx or without a status is a fix', () => {
    expect(retryAdvice(987654, 400)).toBe('fix')
    expect(retryAdvice(987654)).toBe('fix')
  })

  it.each([200, 201, 250, 299])('permission code %i → fix even on 5xx', (code) => {
    expect(retryAdvice(code, 400)).toBe('fix')
    expect(retryAdvice(code, 503)).toBe('fix')
  })

  it('codes just outside the permission range are not permission errors', () => {
    expect(retryAdvice(199, 503)).toBe('retry')
    expect(retryAdvice(300, 503)).toBe('retry')
  })
})

describe('HALTING_CODES', () => {
  it('holds exactly the reference halt list', () => {
    expect([...HALTING_CODES].sort((a, b) => a - b)).toEqual([0, 190, 368, 131031, 132001, 132015, 132016])
  })
  it('does not halt on per-recipient or transient codes', () => {
    for (const code of [131026, 131050, 131049, 130429, 131056, 131000]) expect(HALTING_CODES.has(code)).toBe(false)
  })
})

describe('GraphError', () => {
  // Reference §2.1 synchronous error body (the value of "error").
  const body = {
    message: '(#131030) Recipient phone number not in allowed list',
    type: 'OAuthException',
    code: 131030,
    error_subcode: 2494010,
    error_data: {
      messaging_product: 'whatsapp',
      details: 'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.',
    },
    fbtrace_id: 'AZ1tXn7lS2dfCj0ZQdSTRBn',
  }

  it('parses the Graph error body', () => {
    const e = new GraphError(400, body)
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('GraphError')
    expect(e.httpStatus).toBe(400)
    expect(e.code).toBe(131030)
    expect(e.subcode).toBe(2494010)
    expect(e.type).toBe('OAuthException')
    expect(e.details).toBe('Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.')
    expect(e.fbtraceId).toBe('AZ1tXn7lS2dfCj0ZQdSTRBn')
    expect(e.message).toBe('(#131030) Recipient phone number not in allowed list')
    expect(e.title).toBe('Recipient phone number not in allowed list')
    expect(e.advice).toBe('fix')
    expect(e.retryable).toBe(false)
  })

  it('toJSON gives the body fields and the advice', () => {
    expect(JSON.parse(JSON.stringify(new GraphError(400, body)))).toEqual({
      code: 131030,
      error_subcode: 2494010,
      type: 'OAuthException',
      message: '(#131030) Recipient phone number not in allowed list',
      details: body.error_data.details,
      fbtrace_id: 'AZ1tXn7lS2dfCj0ZQdSTRBn',
      retry: 'fix',
    })
  })

  it('is retryable for a throughput error', () => {
    const e = new GraphError(400, { message: '(#130429) Rate limit hit', code: 130429, fbtrace_id: 'x' })
    expect(e.advice).toBe('retry')
    expect(e.retryable).toBe(true)
    expect(e.title).toBe('Rate limit hit')
  })

  it('"later" and "never" are not retryable', () => {
    expect(new GraphError(400, { code: 131049 }).retryable).toBe(false)
    expect(new GraphError(400, { code: 131026 }).retryable).toBe(false)
  })

  it('uses the HTTP status for an unknown code', () => {
    expect(new GraphError(503, { code: 555555, message: 'x' }).retryable).toBe(true)
    expect(new GraphError(400, { code: 555555, message: 'x' }).retryable).toBe(false)
  })

  it('keeps a message without "(#code)" as its title and makes one up when absent', () => {
    expect(new GraphError(400, { code: 100, message: 'Invalid parameter' }).title).toBe('Invalid parameter')
    const e = new GraphError(400, { code: 100 })
    expect(e.message).toBe('Graph API error 100')
    expect(e.subcode).toBeUndefined()
    expect(e.details).toBeUndefined()
    expect(e.fbtraceId).toBeUndefined()
  })
})

describe('GraphTransportError', () => {
  it('is always a retry with the cause kept', () => {
    const cause = new Error('ECONNRESET')
    const e = new GraphTransportError(cause)
    expect(e.advice).toBe('retry')
    expect(e.code).toBe('GRAPH_UNREACHABLE')
    expect(e.message).toContain('ECONNRESET')
    expect(e.cause).toBe(cause)
  })
})
