import type { EndpointName } from './endpoints.ts'

// Fault injection: whole-response failures (status + body), added latency, and per-record
// failures inside sObject Collections results (e.g. UNABLE_TO_LOCK_ROW).

export interface FaultSpec {
  /** Endpoint name or '*' for any endpoint. */
  route: EndpointName | '*'
  status: number
  /** Response body; a Salesforce-shaped default for the status when absent. */
  body?: unknown
  headers?: Record<string, string>
  /** How many matching requests fail. Default 1. */
  times?: number
  /** Only requests of this org (REST and identity calls). */
  orgId?: string
}

export interface LatencySpec {
  route: EndpointName | '*'
  ms: number
}

export interface RecordFaultSpec {
  /** Per-record status code, e.g. UNABLE_TO_LOCK_ROW. */
  statusCode: string
  message?: string
  /** How many records (in request order, across requests) fail. Default 1. */
  times?: number
}

interface PendingFault {
  spec: FaultSpec
  remaining: number
}

export interface Faults {
  failNext(spec: FaultSpec): void
  take(route: EndpointName, orgId: string | undefined): FaultSpec | undefined
  setLatency(spec: LatencySpec): void
  latencyFor(route: EndpointName): number
  failNextRecords(spec: RecordFaultSpec): void
  takeRecordFault(): { statusCode: string; message: string } | undefined
  clear(): void
}

export function createFaults(): Faults {
  let pending: PendingFault[] = []
  let latency = new Map<string, number>()
  let recordFaults: { statusCode: string; message: string; remaining: number }[] = []
  return {
    failNext(spec) {
      pending.push({ spec, remaining: spec.times ?? 1 })
    },
    take(route, orgId) {
      const hit = pending.find((p) => (p.spec.route === '*' || p.spec.route === route) && (!p.spec.orgId || p.spec.orgId === orgId))
      if (!hit) return undefined
      hit.remaining -= 1
      if (hit.remaining <= 0) pending = pending.filter((p) => p !== hit)
      return hit.spec
    },
    setLatency(spec) {
      if (spec.ms > 0) latency.set(spec.route, spec.ms)
      else latency.delete(spec.route)
    },
    latencyFor(route) {
      return latency.get(route) ?? latency.get('*') ?? 0
    },
    failNextRecords(spec) {
      recordFaults.push({
        statusCode: spec.statusCode,
        message: spec.message ?? defaultRecordMessage(spec.statusCode),
        remaining: spec.times ?? 1,
      })
    },
    takeRecordFault() {
      const hit = recordFaults[0]
      if (!hit) return undefined
      hit.remaining -= 1
      if (hit.remaining <= 0) recordFaults.shift()
      return { statusCode: hit.statusCode, message: hit.message }
    },
    clear() {
      pending = []
      latency = new Map()
      recordFaults = []
    },
  }
}

function defaultRecordMessage(statusCode: string): string {
  return statusCode === 'UNABLE_TO_LOCK_ROW' ? 'unable to obtain exclusive access to this record or 1 records' : statusCode
}

/** The body Salesforce would send for an injected status when the test gives none. */
export function defaultFaultBody(route: EndpointName, status: number): unknown {
  if (route.startsWith('oauth.')) {
    if (status === 400) return { error: 'invalid_grant', error_description: 'expired access/refresh token' }
    if (status === 429 || status === 403) return { error: 'rate_limit_exceeded', error_description: 'rate limit exceeded' }
    return { error: 'server_error', error_description: 'internal server error' }
  }
  if (route === 'identity') return 'Bad_OAuth_Token'
  const byStatus: Record<number, [string, string]> = {
    400: ['UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records'],
    401: ['INVALID_SESSION_ID', 'Session expired or invalid'],
    403: ['REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'],
    404: ['NOT_FOUND', 'The requested resource does not exist'],
    503: ['SERVER_UNAVAILABLE', 'Server is unavailable. Please try again later.'],
  }
  const [errorCode, message] = byStatus[status] ?? ['UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)']
  return [{ message, errorCode }]
}
