// Test-side levers that apply to every HubSpot route: call statistics, injected failures, latency.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errorBody } from './api-error.ts'
import { tenSecondlyBody } from './rate-limit-errors.ts'

export interface FailNextInput {
  /** `"METHOD /route/:pattern"` as in stats().byEndpoint, the pattern alone, or a concrete path. */
  route: string
  status: number
  /** Default: HubSpot's error body for the status (the real 429 body for 429). */
  body?: unknown
  headers?: Record<string, string>
  /** How many matching requests fail. Default 1. */
  times?: number
}

export interface LatencyInput {
  ms: number
  /** Same matching as failNext; omitted = every route. */
  route?: string
}

export interface SimulatorStats {
  total: number
  /** `"METHOD /route/:pattern"` → calls. */
  byEndpoint: Record<string, number>
  byStatus: Record<string, number>
  /** 429 responses returned (rate limits and injected ones). */
  rateLimited: number
  /** portalId → successful refresh_token grants. */
  refreshesByPortal: Record<string, number>
  /**
   * Calls to numbered paths HubSpot replaced with date-versioned ones (refused with 404), by
   * `"METHOD /path"`; kept across resetStats(), so one check at the end covers a whole test file.
   */
  refusedNumbered: Record<string, number>
}

interface Fault {
  route: string
  status: number
  body: unknown
  headers: Record<string, string>
  remaining: number
}

export class Controls {
  #stats: SimulatorStats = emptyStats()
  #faults: Fault[] = []
  #latency: LatencyInput[] = []

  stats(): SimulatorStats {
    return structuredClone(this.#stats)
  }

  resetStats(): void {
    this.#stats = { ...emptyStats(), refusedNumbered: this.#stats.refusedNumbered }
  }

  recordRefusedNumbered(method: string, path: string): void {
    const key = `${method} ${path}`
    this.#stats.refusedNumbered[key] = (this.#stats.refusedNumbered[key] ?? 0) + 1
  }

  recordRefresh(portalId: number): void {
    const key = String(portalId)
    this.#stats.refreshesByPortal[key] = (this.#stats.refreshesByPortal[key] ?? 0) + 1
  }

  failNext(input: FailNextInput): void {
    this.#faults.push({
      route: input.route,
      status: input.status,
      body: input.body,
      headers: input.headers ?? {},
      remaining: input.times ?? 1,
    })
  }

  clearFaults(): void {
    this.#faults = []
  }

  setLatency(input: LatencyInput): void {
    this.#latency = this.#latency.filter((l) => l.route !== input.route)
    if (input.ms > 0) this.#latency.push(input)
  }

  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => {
      if (isControlRoute(request)) return
      const names = routeNames(request)
      const delay = this.#latency.filter((l) => l.route === undefined || names.includes(l.route)).reduce((sum, l) => sum + l.ms, 0)
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      const fault = this.#faults.find((f) => f.remaining > 0 && names.includes(f.route))
      if (!fault) return
      fault.remaining--
      this.#faults = this.#faults.filter((f) => f.remaining > 0)
      const body = fault.body ?? defaultFaultBody(fault.status)
      const headers = fault.status === 429 ? { 'retry-after': '1', ...fault.headers } : fault.headers
      return reply.code(fault.status).headers(headers).send(body)
    })
    app.addHook('onResponse', async (request, reply) => {
      if (isControlRoute(request)) return
      const stats = this.#stats
      const key = routeNames(request)[0] ?? 'unmatched'
      stats.total++
      stats.byEndpoint[key] = (stats.byEndpoint[key] ?? 0) + 1
      const status = String(reply.statusCode)
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1
      if (reply.statusCode === 429) stats.rateLimited++
    })
  }
}

function emptyStats(): SimulatorStats {
  return { total: 0, byEndpoint: {}, byStatus: {}, rateLimited: 0, refreshesByPortal: {}, refusedNumbered: {} }
}

function isControlRoute(request: FastifyRequest): boolean {
  return request.url.startsWith('/_sim')
}

/** Every name a fault/latency rule may use for this request; the first is the stats key. */
function routeNames(request: FastifyRequest): string[] {
  const pattern = request.routeOptions.url ?? '(unmatched)'
  const path = request.url.split('?')[0] ?? request.url
  return [`${request.method} ${pattern}`, pattern, `${request.method} ${path}`, path]
}

function defaultFaultBody(status: number): unknown {
  if (status === 429) return tenSecondlyBody(0, 0)
  const categories: Record<number, string> = {
    400: 'VALIDATION_ERROR',
    401: 'INVALID_AUTHENTICATION',
    403: 'MISSING_SCOPES',
    404: 'OBJECT_NOT_FOUND',
    409: 'CONFLICT',
  }
  return errorBody(categories[status] ?? 'INTERNAL_ERROR', status >= 500 ? 'internal error' : `Injected ${status} response.`)
}
