import { CrmError, type CrmCallObserver, type TokenSource } from '../crm-adapter.ts'
import { isDailyAllocationSpent, networkError, parseLimitInfo, restError, type ApiUsage } from './salesforce-errors.ts'

// One Salesforce REST call with the org's rules applied: a Bearer token from the TokenSource (one
// refresh and one retry after a 401), Sforce-Limit-Info read from every response, the daily-limit
// guard for background work, and bounded retries with backoff and jitter for 5xx, network errors
// and REQUEST_LIMIT_EXCEEDED. Plain fetch rather than a jsforce Connection: jsforce's transport
// retries 5xx GETs out of sight (5 times, up to ~15 s), its session refresh has no bound on
// repeated 401s, and its errors drop the HTTP status, so calls could be neither counted nor bounded.

/** Interactive calls (a user picking a segment) are never held back by the daily-limit guard. */
export type Priority = 'interactive' | 'background'

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number
  baseDelayMs: number
  maxDelayMs: number
}

export interface SalesforceRestOptions {
  instanceUrl: string
  apiVersion: string
  tokens: TokenSource
  observer: CrmCallObserver | undefined
  /** Fraction of the daily allocation after which background calls stop. */
  dailyLimitGuard: number
  retry: RetryPolicy
  timeoutMs: number
}

export interface RestCall {
  /** Label for metrics and call counts, e.g. `query`, `collections.upsert`. */
  endpoint: string
  method?: 'GET' | 'PATCH'
  /** Relative to /services/data/vNN.N (`/query?q=…`), or from the root (`/services/data/…`, as nextRecordsUrl is). */
  path: string
  body?: unknown
  priority: Priority
}

/**
 * A usage reading trips the guard only while it is recent: after this long a background call
 * goes through again and brings a new reading (the rolling 24 h window keeps freeing calls).
 */
const USAGE_READING_TTL_MS = 5 * 60_000

export class SalesforceRest {
  readonly #base: string
  readonly #dataPath: string
  readonly #options: SalesforceRestOptions
  #usage: (ApiUsage & { at: number }) | undefined

  constructor(options: SalesforceRestOptions) {
    this.#base = options.instanceUrl.replace(/\/+$/, '')
    this.#dataPath = `/services/data/v${options.apiVersion}`
    this.#options = options
  }

  async request<T>(call: RestCall): Promise<T> {
    const url = `${this.#base}${call.path.startsWith('/services/') ? call.path : `${this.#dataPath}${call.path}`}`
    let token = await this.#options.tokens.accessToken()
    let refreshed = false
    for (let retries = 0; ; ) {
      if (call.priority === 'background') this.#guard()
      const started = performance.now()
      let status: number
      let text: string
      let headers: Headers
      try {
        const response = await fetch(url, {
          method: call.method ?? 'GET',
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          signal: AbortSignal.timeout(this.#options.timeoutMs),
        })
        status = response.status
        headers = response.headers
        text = await response.text()
      } catch (cause) {
        this.#observe(call.endpoint, 'error', started)
        const error = networkError(cause)
        if (retries < this.#options.retry.retries) {
          await this.#backoff(retries++)
          continue
        }
        throw error
      }
      this.#observe(call.endpoint, status, started)
      const usage = this.#readUsage(headers)
      if (status >= 200 && status < 300) return parseBody<T>(status, text)
      if (status === 401 && !refreshed) {
        refreshed = true
        token = await this.#options.tokens.refreshAfterRejection(token)
        continue
      }
      const error = restError(status, text, usage)
      // A spent daily allocation does not come back within seconds: surface it at once.
      const retryNow = error.code === 'REQUEST_LIMIT_EXCEEDED' ? !isDailyAllocationSpent(usage) : error.code === 'SERVER_ERROR'
      if (retryNow && retries < this.#options.retry.retries) {
        await this.#backoff(retries++)
        continue
      }
      throw error
    }
  }

  #guard(): void {
    const usage = this.#usage
    if (!usage || usage.max <= 0) return
    const age = Date.now() - usage.at
    if (age >= USAGE_READING_TTL_MS || usage.used < this.#options.dailyLimitGuard * usage.max) return
    throw new CrmError({
      crm: 'salesforce',
      code: 'DAILY_LIMIT_GUARD',
      message: `Salesforce API usage is ${usage.used}/${usage.max}, at or above the ${Math.round(this.#options.dailyLimitGuard * 100)}% guard: background calls pause so the org keeps the rest of its daily allocation`,
      retryable: true,
      retryAfterMs: USAGE_READING_TTL_MS - age,
    })
  }

  #readUsage(headers: Headers): ApiUsage | undefined {
    const usage = parseLimitInfo(headers.get('sforce-limit-info'))
    if (usage) {
      this.#usage = { ...usage, at: Date.now() }
      this.#options.observer?.onApiUsage?.(usage)
    }
    return usage
  }

  #observe(endpoint: string, status: number | 'error', started: number): void {
    this.#options.observer?.onCall?.({ crm: 'salesforce', endpoint, status, ms: Math.round(performance.now() - started) })
  }

  /** Exponential backoff with equal jitter, capped. */
  async #backoff(retry: number): Promise<void> {
    const { baseDelayMs, maxDelayMs } = this.#options.retry
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** retry)
    await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)))
  }
}

function parseBody<T>(status: number, text: string): T {
  if (status === 204 || text === '') return undefined as T
  try {
    return JSON.parse(text) as T
  } catch (cause) {
    throw new CrmError({ crm: 'salesforce', code: 'UNKNOWN', message: `Salesforce answered ${status} with a body that is not JSON`, httpStatus: status, cause })
  }
}
