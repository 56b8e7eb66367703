import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { existsSync } from 'node:fs'

// Environment → typed, validated configuration. Every problem is collected so start-up fails once
// with the whole list instead of one problem per restart.

const Port = Type.Integer({ minimum: 0, maximum: 65535 })
const Url = Type.String({ pattern: '^https?://[^\\s]+$' })

const EnvSchema = Type.Object({
  NODE_ENV: Type.Optional(Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')])),
  PORT: Type.Optional(Port),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  PUBLIC_URL: Type.Optional(Url),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(postgres(ql)?://|memory://$)' })),
  DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  ENCRYPTION_KEY: Type.Optional(Type.String()),
  ENCRYPTION_PREVIOUS_KEYS: Type.Optional(Type.String()),
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  DOCS_PUBLIC: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  LOG_LEVEL: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
  HUBSPOT_CLIENT_ID: Type.Optional(Type.String()),
  HUBSPOT_CLIENT_SECRET: Type.Optional(Type.String()),
  HUBSPOT_APP_ID: Type.Optional(Type.String()),
  HUBSPOT_DEVELOPER_API_KEY: Type.Optional(Type.String()),
  HUBSPOT_API_BASE: Type.Optional(Url),
  HUBSPOT_AUTH_URL: Type.Optional(Url),
  HUBSPOT_RATE_LIMIT: Type.Optional(Type.String({ pattern: '^[1-9]\\d*/[1-9]\\d*$', description: 'requests/seconds per portal, e.g. 100/10' })),
  SALESFORCE_CLIENT_ID: Type.Optional(Type.String()),
  SALESFORCE_CLIENT_SECRET: Type.Optional(Type.String()),
  SALESFORCE_LOGIN_URL: Type.Optional(Url),
  SALESFORCE_NAMESPACE: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,14}$' })),
  SALESFORCE_DAILY_LIMIT_PERCENT: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  WHATSAPP_APP_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_VERIFY_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  WHATSAPP_GRAPH_URL: Type.Optional(Url),
  WHATSAPP_GRAPH_VERSION: Type.Optional(Type.String({ pattern: '^v\\d+\\.\\d+$' })),
  CONSENT_OPT_OUT_KEYWORDS: Type.Optional(Type.String()),
  CONSENT_OPT_IN_KEYWORDS: Type.Optional(Type.String()),
  CONSENT_OPT_OUT_REPLY: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  CONSENT_OPT_IN_REPLY: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
})
type Env = Static<typeof EnvSchema>

export const DEFAULT_OPT_OUT_KEYWORDS = [
  'STOP', 'STOP ALL', 'UNSUBSCRIBE', 'STOP PROMOTIONS', 'CANCEL', 'END', 'QUIT', 'OPT OUT', 'OPTOUT',
  'PARAR', 'BAJA', 'ARRÊT', 'ARRET', 'STOPP', 'ALTO',
]
export const DEFAULT_OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'SUBSCRIBE', 'RESUME PROMOTIONS', 'OPT IN', 'OPTIN']

export interface Config {
  env: 'development' | 'production' | 'test'
  port: number
  host: string
  publicUrl: string
  databaseUrl: string | undefined
  dataDir: string
  encryptionKey: string | undefined
  encryptionPreviousKeys: string[]
  adminToken: string | undefined
  /** Bearer token for /metrics; unset: the admin token. */
  metricsToken: string | undefined
  /** /docs without a token (local use); otherwise it takes the admin token. */
  docsPublic: boolean
  logLevel: string
  hubspot: {
    clientId?: string
    clientSecret?: string
    appId?: string
    developerApiKey?: string
    apiBase: string
    authUrl: string
    /** Requests per window the connector allows itself per portal; unset: the adapter's default, under HubSpot's 100 per 10 s. */
    rateLimit?: { max: number; intervalMs: number }
  }
  salesforce: {
    clientId?: string
    clientSecret?: string
    loginUrl: string
    /** The managed package's namespace prefix for custom fields, when installed from the package. */
    namespace?: string
    /** Background work pauses once this share of the org's daily API allocation is used. */
    dailyLimitFraction: number
  }
  whatsapp: {
    appSecret?: string
    verifyToken?: string
    graphUrl: string
    graphVersion: string
  }
  consent: {
    optOutKeywords: string[]
    optInKeywords: string[]
    optOutReply?: string
    optInReply?: string
  }
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const NUMERIC = new Set(['PORT', 'SALESFORCE_DAILY_LIMIT_PERCENT'])

function pickEnv(source: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const raw = source[key]
    if (raw === undefined || raw === '') continue
    out[key] = NUMERIC.has(key) && /^\d+$/.test(raw) ? Number(raw) : raw
  }
  return out
}

function splitList(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

function decodeKey(name: string, value: string, problems: string[]): void {
  const bytes = Buffer.from(value, 'base64')
  if (bytes.length !== 32 || bytes.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) {
    problems.push(`${name} must be 32 bytes encoded as base64 (generate one with: openssl rand -base64 32)`)
  }
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const picked = pickEnv(source)
  const problems: string[] = []
  for (const error of Value.Errors(EnvSchema, picked)) {
    const name = error.path.replace(/^\//, '')
    problems.push(`${name}: ${error.message}${name ? ` (got ${JSON.stringify(picked[name])})` : ''}`)
  }
  // No early throw: the cross-field checks below run too, so one ConfigError lists every problem.
  // They only read string values and the final throw comes before any value is used.
  const env = picked as Env

  const nodeEnv = env.NODE_ENV ?? 'development'
  if (env.ENCRYPTION_KEY) decodeKey('ENCRYPTION_KEY', env.ENCRYPTION_KEY, problems)
  else if (nodeEnv === 'production') problems.push('ENCRYPTION_KEY is required when NODE_ENV=production')
  const previousKeys = splitList(env.ENCRYPTION_PREVIOUS_KEYS, [])
  previousKeys.forEach((k, i) => decodeKey(`ENCRYPTION_PREVIOUS_KEYS[${i}]`, k, problems))
  if (previousKeys.length && !env.ENCRYPTION_KEY) problems.push('ENCRYPTION_PREVIOUS_KEYS needs ENCRYPTION_KEY (the current key)')
  if (nodeEnv === 'production' && !env.ADMIN_TOKEN) problems.push('ADMIN_TOKEN is required when NODE_ENV=production')
  if (nodeEnv === 'production' && !env.WHATSAPP_APP_SECRET) problems.push('WHATSAPP_APP_SECRET is required when NODE_ENV=production (webhook signatures)')
  if (Boolean(env.HUBSPOT_CLIENT_ID) !== Boolean(env.HUBSPOT_CLIENT_SECRET)) {
    problems.push('HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET go together: set both or neither')
  }
  if (Boolean(env.SALESFORCE_CLIENT_ID) !== Boolean(env.SALESFORCE_CLIENT_SECRET)) {
    problems.push('SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET go together: set both or neither')
  }
  const optOut = splitList(env.CONSENT_OPT_OUT_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS)
  const optIn = splitList(env.CONSENT_OPT_IN_KEYWORDS, DEFAULT_OPT_IN_KEYWORDS)
  if (!optOut.length) problems.push('CONSENT_OPT_OUT_KEYWORDS must name at least one keyword')
  if (problems.length) throw new ConfigError(problems)

  const host = env.HOST ?? '127.0.0.1'
  const port = env.PORT ?? 3000
  return {
    env: nodeEnv,
    port,
    host,
    publicUrl: (env.PUBLIC_URL ?? `http://${host}:${port}`).replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR ?? './data',
    encryptionKey: env.ENCRYPTION_KEY,
    encryptionPreviousKeys: previousKeys,
    adminToken: env.ADMIN_TOKEN,
    metricsToken: env.METRICS_TOKEN,
    docsPublic: env.DOCS_PUBLIC === 'true',
    logLevel: env.LOG_LEVEL ?? 'info',
    hubspot: {
      clientId: env.HUBSPOT_CLIENT_ID,
      clientSecret: env.HUBSPOT_CLIENT_SECRET,
      appId: env.HUBSPOT_APP_ID,
      developerApiKey: env.HUBSPOT_DEVELOPER_API_KEY,
      apiBase: (env.HUBSPOT_API_BASE ?? 'https://api.hubapi.com').replace(/\/+$/, ''),
      authUrl: env.HUBSPOT_AUTH_URL ?? 'https://app.hubspot.com/oauth/authorize',
      rateLimit: env.HUBSPOT_RATE_LIMIT ? { max: Number(env.HUBSPOT_RATE_LIMIT.split('/')[0]), intervalMs: Number(env.HUBSPOT_RATE_LIMIT.split('/')[1]) * 1000 } : undefined,
    },
    salesforce: {
      clientId: env.SALESFORCE_CLIENT_ID,
      clientSecret: env.SALESFORCE_CLIENT_SECRET,
      loginUrl: (env.SALESFORCE_LOGIN_URL ?? 'https://login.salesforce.com').replace(/\/+$/, ''),
      namespace: env.SALESFORCE_NAMESPACE,
      dailyLimitFraction: (env.SALESFORCE_DAILY_LIMIT_PERCENT ?? 90) / 100,
    },
    whatsapp: {
      appSecret: env.WHATSAPP_APP_SECRET,
      verifyToken: env.WHATSAPP_VERIFY_TOKEN,
      graphUrl: (env.WHATSAPP_GRAPH_URL ?? 'https://graph.facebook.com').replace(/\/+$/, ''),
      // Pinned on purpose: Graph versions change payloads; see reference §1.1.
      graphVersion: env.WHATSAPP_GRAPH_VERSION ?? 'v26.0',
    },
    consent: {
      optOutKeywords: optOut,
      optInKeywords: optIn,
      optOutReply: env.CONSENT_OPT_OUT_REPLY,
      optInReply: env.CONSENT_OPT_IN_REPLY,
    },
  }
}

/** Reads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}
