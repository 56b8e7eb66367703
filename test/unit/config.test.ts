import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, loadConfig } from '../../connector/config.ts'

const KEY = Buffer.alloc(32, 7).toString('base64')
const OLD_KEY = Buffer.alloc(32, 9).toString('base64')

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems
  }
  throw new Error('loadConfig accepted the environment')
}

describe('loadConfig defaults', () => {
  const config = loadConfig({})

  it('listens on 127.0.0.1:3000 and derives PUBLIC_URL from it', () => {
    expect(config.env).toBe('development')
    expect(config.port).toBe(3000)
    expect(config.host).toBe('127.0.0.1')
    expect(config.publicUrl).toBe('http://127.0.0.1:3000')
  })

  it('uses the pinned Graph URL and version, and the platform defaults', () => {
    expect(config.whatsapp.graphUrl).toBe('https://graph.facebook.com')
    expect(config.whatsapp.graphVersion).toBe('v26.0')
    expect(config.hubspot.apiBase).toBe('https://api.hubapi.com')
    expect(config.salesforce.loginUrl).toBe('https://login.salesforce.com')
    expect(config.logLevel).toBe('info')
    expect(config.dataDir).toBe('./data')
    expect(config.databaseUrl).toBeUndefined()
    expect(config.encryptionKey).toBeUndefined()
    expect(config.encryptionPreviousKeys).toEqual([])
  })

  it('uses the default consent keywords', () => {
    expect(config.consent.optOutKeywords).toEqual(DEFAULT_OPT_OUT_KEYWORDS)
    expect(config.consent.optInKeywords).toEqual(DEFAULT_OPT_IN_KEYWORDS)
    expect(config.consent.optOutKeywords).toContain('STOP')
    expect(config.consent.optInKeywords).toContain('START')
  })

  it('treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '', HOST: '', PUBLIC_URL: '', ENCRYPTION_KEY: '' })
    expect([c.port, c.host, c.publicUrl, c.encryptionKey]).toEqual([3000, '127.0.0.1', 'http://127.0.0.1:3000', undefined])
  })
})

describe('loadConfig values', () => {
  it('derives PUBLIC_URL from HOST and PORT, and strips trailing slashes from a given one', () => {
    expect(loadConfig({ HOST: 'localhost', PORT: '8080' }).publicUrl).toBe('http://localhost:8080')
    expect(loadConfig({ PUBLIC_URL: 'https://connector.example.com//' }).publicUrl).toBe('https://connector.example.com')
  })

  it('parses PORT as a number', () => {
    expect(loadConfig({ PORT: '8080' }).port).toBe(8080)
  })

  it('splits keyword and previous-key lists', () => {
    const c = loadConfig({
      CONSENT_OPT_OUT_KEYWORDS: ' HALT , stop now,,',
      CONSENT_OPT_IN_KEYWORDS: 'GO',
      ENCRYPTION_KEY: KEY,
      ENCRYPTION_PREVIOUS_KEYS: `${OLD_KEY}, ${KEY}`,
    })
    expect(c.consent.optOutKeywords).toEqual(['HALT', 'stop now'])
    expect(c.consent.optInKeywords).toEqual(['GO'])
    expect(c.encryptionPreviousKeys).toEqual([OLD_KEY, KEY])
  })

  it('accepts a complete production configuration', () => {
    const c = loadConfig({ NODE_ENV: 'production', ENCRYPTION_KEY: KEY, ADMIN_TOKEN: 'a'.repeat(32), WHATSAPP_APP_SECRET: 's' })
    expect(c.env).toBe('production')
    expect(c.adminToken).toBe('a'.repeat(32))
  })

  it.each(['memory://', 'postgres://u:p@localhost/db', 'postgresql://localhost/db'])('accepts DATABASE_URL=%s', (url) => {
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url)
  })

  it.each(['mysql://x', 'memory://x', 'sqlite:./db', 'localhost:5432'])('refuses DATABASE_URL=%s', (url) => {
    const problems = problemsOf({ DATABASE_URL: url })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^DATABASE_URL/)
  })
})

describe('loadConfig problems', () => {
  it('lists every problem in one ConfigError, schema and cross-field alike', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      PORT: 'abc',
      ENCRYPTION_PREVIOUS_KEYS: 'not-a-key',
      HUBSPOT_CLIENT_ID: 'client-id-without-secret',
    })
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^PORT\b.*"abc"/),
      expect.stringMatching(/^ENCRYPTION_PREVIOUS_KEYS\[0\]/),
      expect.stringMatching(/^ENCRYPTION_KEY is required/),
      expect.stringMatching(/^ENCRYPTION_PREVIOUS_KEYS needs ENCRYPTION_KEY/),
      expect.stringMatching(/^ADMIN_TOKEN is required/),
      expect.stringMatching(/^WHATSAPP_APP_SECRET is required/),
      expect.stringMatching(/^HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET/),
    ]))
    expect(problems).toHaveLength(7)
  })

  it('reports a bad ENCRYPTION_KEY together with a bad PORT and a lone client id', () => {
    const problems = problemsOf({ PORT: 'abc', ENCRYPTION_KEY: 'short', SALESFORCE_CLIENT_SECRET: 'secret-without-id' })
    expect(problems).toHaveLength(3)
    expect(problems[0]).toMatch(/^PORT/)
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^ENCRYPTION_KEY must be 32 bytes/),
      expect.stringMatching(/^SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET/),
    ]))
  })

  it('the message names every problem', () => {
    try {
      loadConfig({ PORT: '70000', LOG_LEVEL: 'loud' })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).message).toContain('PORT')
      expect((error as ConfigError).message).toContain('LOG_LEVEL')
    }
  })

  it.each([
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '3000.5'],
    ['PUBLIC_URL', 'connector.example.com'],
    ['WHATSAPP_GRAPH_URL', 'ftp://graph.facebook.com'],
    ['WHATSAPP_GRAPH_VERSION', '23.0'],
    ['ADMIN_TOKEN', 'too-short'],
    ['NODE_ENV', 'prod'],
    ['LOG_LEVEL', 'verbose'],
  ])('refuses %s=%s', (name, value) => {
    const problems = problemsOf({ [name]: value })
    expect(problems).toHaveLength(1)
    expect(problems[0]!.startsWith(name)).toBe(true)
  })

  it.each([
    ['16 bytes', Buffer.alloc(16, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['not base64', '!'.repeat(44)],
    ['base64url alphabet', Buffer.alloc(32, 0xfb).toString('base64url')],
  ])('refuses an ENCRYPTION_KEY of %s', (_name, key) => {
    expect(problemsOf({ ENCRYPTION_KEY: key })).toEqual([expect.stringMatching(/^ENCRYPTION_KEY must be 32 bytes/)])
  })

  it('accepts a 32-byte key with or without padding', () => {
    expect(loadConfig({ ENCRYPTION_KEY: KEY }).encryptionKey).toBe(KEY)
    expect(loadConfig({ ENCRYPTION_KEY: KEY.replace(/=+$/, '') }).encryptionKey).toBe(KEY.replace(/=+$/, ''))
  })

  it('refuses an empty opt-out keyword list', () => {
    expect(problemsOf({ CONSENT_OPT_OUT_KEYWORDS: ' , ,' })).toEqual([expect.stringMatching(/^CONSENT_OPT_OUT_KEYWORDS/)])
  })
})
