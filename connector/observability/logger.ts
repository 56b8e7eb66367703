import pino, { type LoggerOptions } from 'pino'

// Secrets never reach a log line, and phone numbers show only their last four digits.

const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hubspot-signature"]',
  'req.headers["x-hubspot-signature-v3"]',
  'headers.authorization',
  'headers.Authorization',
]

// Keys whose values are secrets wherever they appear in a logged object.
const SECRET_KEY = /^(access_?token|refresh_?token|accessToken|refreshToken|token|client_?secret|clientSecret|app_?secret|appSecret|password|authorization|api_?key|apiKey|hapikey|code_verifier|codeVerifier|encryptionKey|adminToken)$/i
// Keys whose values are phone numbers or WhatsApp ids.
const PHONE_KEY = /^(phone|phones|mobilephone|to|from|wa_?id|waId|recipient|recipient_?id|recipientId|e164|msisdn|display_phone_number)$/i

export function maskPhone(value: unknown): unknown {
  if (typeof value !== 'string' && typeof value !== 'number') return value
  const digits = String(value).replace(/\D/g, '')
  if (digits.length < 5) return '***'
  return `***${digits.slice(-4)}`
}

const MAX_DEPTH = 6

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A value under a phone key: numbers masked, objects still scrubbed (maskPhone leaves them as they are). */
function scrubPhone(value: unknown, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v) => scrubPhone(v, depth + 1))
  if (value !== null && typeof value === 'object') return scrub(value, depth)
  return maskPhone(value)
}

export function scrub(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1))
  // Only plain objects are copied. Class instances (Error, Date, Buffer, Fastify's request and
  // reply, whose url/method/statusCode are prototype getters) pass through to their serializers
  // or toJSON: pino runs formatters.log before serializers, so a copy would lose those getters.
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) out[key] = '[redacted]'
    else if (PHONE_KEY.test(key)) out[key] = scrubPhone(v, depth + 1)
    else out[key] = scrub(v, depth + 1)
  }
  return out
}

/** Masks phone numbers and secrets in a URL's query string (consent look-ups carry ?phone=). */
export function scrubUrl(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const params = new URLSearchParams(url.slice(q + 1))
  for (const [key, v] of [...params]) {
    if (SECRET_KEY.test(key) || /^hub\.verify_token$|^code$|^state$/.test(key)) params.set(key, '[redacted]')
    else if (PHONE_KEY.test(key)) params.set(key, String(maskPhone(v)))
  }
  return `${url.slice(0, q)}?${params.toString()}`
}

// What an error must not carry into a log: a query's parameters (PGlite and pg attach them), and
// request or response bodies an HTTP client attached.
const ERROR_DROP_KEY = /^(params|parameters|values|body|rawBody|payload|requestBody|responseBody|queryOptions)$/
// Digit runs as long as a phone number, in any written form, inside error text
// ('value "+1 555 123 4567" is out of range', 'Key (phone)=(+15551234567) already exists').
const PHONE_IN_TEXT = /\+?\d(?:[\s().-]?\d){6,}/g

function scrubErrorValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.replace(PHONE_IN_TEXT, (m) => String(maskPhone(m)))
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => scrubErrorValue(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (ERROR_DROP_KEY.test(key)) continue
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : scrubErrorValue(v, depth + 1)
  }
  return out
}

/** The one way errors reach a log, on PGlite and PostgreSQL alike: no parameters, no bodies, phones masked. */
export function serializeError(error: unknown): unknown {
  return scrubErrorValue(error instanceof Error ? pino.stdSerializers.err(error) : error, 0)
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    formatters: {
      log: (object) => scrub(object) as Record<string, unknown>,
    },
    serializers: {
      req: (req: { method: string; url?: string; id?: string }) => ({ method: req.method, url: typeof req.url === 'string' ? scrubUrl(req.url) : req.url, reqId: req.id }),
      err: serializeError,
    },
  }
}

export function createLogger(level: string) {
  return pino(loggerOptions(level))
}
