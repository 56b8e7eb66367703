// The one place the HubSpot adapter talks HTTP: bearer token from the TokenSource (one refresh
// and one retry on 401), per-installation pacing, retries with backoff for 429/5xx/network
// failures, every failure a CrmError, every call reported to the observer. Plain fetch: the
// SDK's retry and limiter decorators are process-wide singletons (reference hubspot.md §2).
import { CrmError, type CrmCallObserver, type TokenSource } from '../crm-adapter.ts'
import { HUBSPOT_API_VERSIONS, type HubSpotApiArea, type HubSpotApiVersions, hubspotPath } from './api-versions.ts'
import { type Clock, systemClock } from './clock.ts'
import { errorFromResponse, redact } from './hubspot-errors.ts'
import type { HubSpotRateLimiter } from './rate-limiter.ts'

export interface RetryOptions {
  /** Attempts per call, the first included. Default 4. */
  attempts?: number
  /** First backoff for 5xx and network errors; doubles per attempt, with full jitter. Default 500 ms. */
  baseDelayMs?: number
  /** Cap on one wait, Retry-After included. Default 30 s. */
  maxDelayMs?: number
}

export interface HubSpotHttpOptions {
  apiBase: string
  tokens: TokenSource
  limiter: HubSpotRateLimiter
  /** The date version each API area is called on. Default: the table in api-versions.ts. */
  versions?: HubSpotApiVersions
  observer?: CrmCallObserver
  retry?: RetryOptions
  /** Per attempt. Default 30 s. */
  timeoutMs?: number
  clock?: Clock
}

export interface CallInit {
  /** Values for the `{name}` placeholders of the endpoint. */
  params?: Record<string, string>
  query?: Record<string, string | number | undefined>
  body?: unknown
  /** CRM search endpoints, paced by their own stricter limit as well. */
  search?: boolean
  /**
   * False for calls that create something: a timeout or 5xx may hide a success, so they are not
   * retried here (429s are, since HubSpot refused those before doing anything).
   */
  idempotent?: boolean
  /** Values to keep out of error messages (e.g. the phone number in the path). */
  redact?: string[]
}

export interface HubSpotResponse {
  status: number
  body: unknown
  /** HTTP calls made, retries included. */
  calls: number
}

export class HubSpotHttp {
  readonly #options: HubSpotHttpOptions
  readonly #clock: Clock
  readonly #attempts: number
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #timeoutMs: number

  constructor(options: HubSpotHttpOptions) {
    this.#options = options
    this.#clock = options.clock ?? systemClock
    this.#attempts = Math.max(1, options.retry?.attempts ?? 4)
    this.#baseDelayMs = options.retry?.baseDelayMs ?? 500
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 30_000
    this.#timeoutMs = options.timeoutMs ?? 30_000
  }

  /** `"METHOD /versioned/path"` for `request`, e.g. `endpoint('POST', 'lists', '/search')`. */
  endpoint(method: string, area: HubSpotApiArea, rest: string): string {
    return `${method} ${hubspotPath(this.#options.versions ?? HUBSPOT_API_VERSIONS, area, rest)}`
  }

  /**
   * `endpoint` is `"METHOD /path/{param}"`; it is also the observer's label, so ids never reach
   * metrics. 2xx (207 multi-status included) resolve; anything else throws a CrmError.
   */
  async request(endpoint: string, init: CallInit = {}): Promise<HubSpotResponse> {
    const [method = 'GET', template = '/'] = endpoint.split(' ')
    const url = this.#url(template, init)
    const tokens = this.#options.tokens
    let token = await tokens.accessToken()
    let refreshed = false
    let calls = 0
    for (let attempt = 1; ; attempt++) {
      calls++
      const outcome = await this.#send(endpoint, method, url, token, init)
      if (!(outcome instanceof CrmError)) {
        const body = parseBody(outcome.text)
        if (outcome.status >= 200 && outcome.status < 300) return { status: outcome.status, body, calls }
        if (outcome.status === 401 && !refreshed) {
          refreshed = true
          token = await this.#refresh(token)
          attempt-- // the retry with a fresh token is not a backoff attempt
          continue
        }
        const error = errorFromResponse({ endpoint, status: outcome.status, body, retryAfter: outcome.retryAfter, redact: [token, ...(init.redact ?? [])] })
        const retry = error.code === 'RATE_LIMITED' || (error.retryable && init.idempotent !== false)
        if (!retry || attempt >= this.#attempts) throw error
        await this.#clock.sleep(Math.min(this.#maxDelayMs, error.retryAfterMs ?? this.#backoff(attempt)))
        continue
      }
      if (init.idempotent === false || attempt >= this.#attempts) throw outcome
      await this.#clock.sleep(this.#backoff(attempt))
    }
  }

  /** One HTTP call through the limiter; network failures come back as a CrmError. */
  async #send(endpoint: string, method: string, url: string, token: string, init: CallInit): Promise<RawResponse | CrmError> {
    const release = await this.#options.limiter.acquire(init.search ?? false)
    const started = this.#clock.now()
    let status: number | 'error' = 'error'
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' }
      if (init.body !== undefined) headers['content-type'] = 'application/json'
      const response = await fetch(url, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      // Read the body inside the slot so the slot ends when the response has fully arrived.
      const text = await response.text()
      status = response.status
      return { status, retryAfter: response.headers.get('retry-after'), text }
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
      return new CrmError({ crm: 'hubspot', code: 'NETWORK_ERROR', message: `HubSpot ${endpoint} ${timedOut ? 'timed out' : 'failed'}: ${redact(describe(cause), [token, ...(init.redact ?? [])])}`, cause })
    } finally {
      release()
      this.#options.observer?.onCall?.({ crm: 'hubspot', endpoint, status, ms: this.#clock.now() - started })
    }
  }

  async #refresh(rejected: string): Promise<string> {
    try {
      return await this.#options.tokens.refreshAfterRejection(rejected)
    } catch (cause) {
      if (cause instanceof CrmError) throw cause
      throw new CrmError({ crm: 'hubspot', code: 'UNAUTHORIZED', message: 'HubSpot rejected the access token and refreshing it failed', cause })
    }
  }

  /** Exponential, jittered between half and all of it, so callers hit by one outage spread out. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1))
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
  }

  #url(template: string, init: CallInit): string {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = init.params?.[name]
      if (value === undefined) throw new Error(`no value for {${name}} in ${template}`)
      return encodeURIComponent(value)
    })
    const url = new URL(this.#options.apiBase.replace(/\/+$/, '') + path)
    for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value))
    return url.toString()
  }
}

interface RawResponse {
  status: number
  retryAfter: string | null
  text: string
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause)
  const code = (cause.cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? `${cause.message} (${code})` : cause.message
}
