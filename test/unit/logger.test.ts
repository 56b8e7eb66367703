import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { loggerOptions, maskPhone, scrub, scrubUrl } from '../../connector/observability/logger.ts'

/** A pino logger built from the connector's options, writing synchronously into `lines`. */
function capture(level = 'info') {
  const lines: string[] = []
  const log = pino(loggerOptions(level), { write: (s: string) => void lines.push(s) })
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const SECRETS = ['EAAG-access-token-value', 'nested-token-value', 'Bearer header-secret', 'refresh-me', 'client-secret-value']

describe('maskPhone', () => {
  it.each([
    ['+4915123456789', '***6789'],
    ['4915123456789', '***6789'],
    ['+49 151 2345-6789', '***6789'],
    [4915123456789, '***6789'],
    ['1234', '***'],
    ['', '***'],
  ])('%j → %j', (input, expected) => {
    expect(maskPhone(input)).toBe(expected)
  })

  it('leaves non-phone values alone', () => {
    expect(maskPhone(undefined)).toBeUndefined()
    expect(maskPhone(null)).toBeNull()
  })
})

describe('scrub', () => {
  it('redacts secrets and masks phones at any depth, leaving other values', () => {
    const out = scrub({
      accessToken: 'EAAG-access-token-value',
      nested: { deeper: { token: 'nested-token-value', kept: 'visible' } },
      list: [{ refresh_token: 'refresh-me' }],
      phone: '+4915123456789',
      count: 3,
    })
    expect(out).toEqual({
      accessToken: '[redacted]',
      nested: { deeper: { token: '[redacted]', kept: 'visible' } },
      list: [{ refresh_token: '[redacted]' }],
      phone: '***6789',
      count: 3,
    })
  })

  it('does not modify its input', () => {
    const input = { token: 'nested-token-value', to: '4915123456789' }
    scrub(input)
    expect(input).toEqual({ token: 'nested-token-value', to: '4915123456789' })
  })

  it('scrubs an object found under a phone key instead of passing it through', () => {
    expect(scrub({ to: { wa_id: '4915123456789', token: 'nested-token-value' } })).toEqual({ to: { wa_id: '***6789', token: '[redacted]' } })
  })

  it('leaves class instances (Date, Error, Buffer) to their own serialization', () => {
    const date = new Date('2030-01-01T00:00:00Z')
    const error = new Error('boom')
    const out = scrub({ at: date, err: error }) as Record<string, unknown>
    expect(out.at).toBe(date)
    expect(out.err).toBe(error)
  })
})

describe('scrubUrl', () => {
  it('masks a phone in the query string', () => {
    const url = scrubUrl('/api/v1/consent?phone=%2B4915123456789')
    expect(url).toBe('/api/v1/consent?phone=***6789')
    expect(url).not.toContain('4915123456789')
    expect(url).not.toContain('23456789')
  })

  it('redacts tokens, OAuth codes and the webhook verify token; keeps other params', () => {
    const url = scrubUrl('/oauth/callback?code=abc123&state=s7&hub.verify_token=vt-secret&access_token=tok&page=2')
    for (const secret of ['abc123', 's7', 'vt-secret', 'tok']) expect(url).not.toContain(`=${secret}`)
    const params = new URLSearchParams(url.split('?')[1])
    expect(params.get('page')).toBe('2')
    expect(params.get('code')).toBe('[redacted]')
  })

  it('leaves a URL without a query string unchanged', () => {
    expect(scrubUrl('/health')).toBe('/health')
  })
})

describe('pino logger from loggerOptions', () => {
  it('writes no secrets and only masked phones', () => {
    const { log, lines, records } = capture()
    log.info(
      {
        accessToken: 'EAAG-access-token-value',
        hubspot: { auth: { token: 'nested-token-value' }, refreshToken: 'refresh-me' },
        headers: { authorization: 'Bearer header-secret', 'content-type': 'application/json' },
        config: { clientSecret: 'client-secret-value' },
        phone: '+4915123456789',
        to: '4915123456789',
        phones: ['+4917612345678', '+31612345678'],
        batch: [{ recipient_id: '31687654321' }],
        campaign: 'spring25',
      },
      'sending',
    )
    expect(lines).toHaveLength(1)
    const text = lines[0]!
    for (const secret of SECRETS) expect(text).not.toContain(secret)
    for (const digits of ['4915123456789', '4917612345678', '31612345678', '31687654321', '23456789', '12345678', '87654321']) {
      expect(text).not.toContain(digits)
    }
    const [rec] = records()
    expect(rec).toMatchObject({
      msg: 'sending',
      accessToken: '[redacted]',
      hubspot: { auth: { token: '[redacted]' }, refreshToken: '[redacted]' },
      headers: { authorization: '[redacted]', 'content-type': 'application/json' },
      config: { clientSecret: '[redacted]' },
      phone: '***6789',
      to: '***6789',
      phones: ['***5678', '***5678'],
      batch: [{ recipient_id: '***4321' }],
      campaign: 'spring25',
    })
  })

  it('serializes a request with a masked URL', () => {
    const { log, records } = capture()
    log.info({ req: { method: 'GET', url: '/api/v1/consent?phone=%2B4915123456789', id: 'r1', headers: { authorization: 'Bearer header-secret' } } }, 'incoming')
    const [rec] = records()
    expect(rec!.req).toEqual({ method: 'GET', url: '/api/v1/consent?phone=***6789', reqId: 'r1' })
  })

  it('serializes a request object whose url and method are prototype getters (as Fastify requests are)', () => {
    class FakeRequest {
      readonly id = 'r2'
      get method() { return 'GET' }
      get url() { return '/api/v1/consent?phone=%2B4915123456789' }
    }
    const { log, records } = capture()
    log.info({ req: new FakeRequest() }, 'incoming')
    expect(records()[0]!.req).toEqual({ method: 'GET', url: '/api/v1/consent?phone=***6789', reqId: 'r2' })
  })

  it('logs errors through the err serializer and dates as ISO strings', () => {
    const { log, records } = capture()
    log.error({ err: new Error('graph down'), at: new Date('2030-01-01T00:00:00Z') }, 'failed')
    const [rec] = records()
    expect(rec!.err).toMatchObject({ type: 'Error', message: 'graph down' })
    expect(rec!.at).toBe('2030-01-01T00:00:00.000Z')
  })

  it('respects the level', () => {
    const { log, lines } = capture('warn')
    log.info({ phone: '+4915123456789' }, 'hidden')
    log.warn('shown')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!).msg).toBe('shown')
  })
})
