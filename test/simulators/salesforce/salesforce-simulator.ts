import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { createClock, type SimClock } from './clock.ts'
import { registerCollectionRoutes } from './collections-routes.ts'
import type { SimContext } from './context.ts'
import { registerControlRoutes } from './control-routes.ts'
import { createCursorStore } from './cursors.ts'
import type { EndpointName } from './endpoints.ts'
import { SfError } from './errors.ts'
import { createFaults, type FaultSpec, type LatencySpec, type RecordFaultSpec } from './faults.ts'
import { normalizeId } from './ids.ts'
import { apiUsed, setApiUsed } from './limits.ts'
import { registerListViewRoutes } from './listview-routes.ts'
import { identityUrl, registerOAuthRoutes } from './oauth-routes.ts'
import { registerQueryRoutes } from './query-routes.ts'
import { renderFullRecord } from './render.ts'
import { registerReportRoutes } from './report-routes.ts'
import { registerRestGuard } from './rest-guard.ts'
import { registerRootRoutes, registerVersionsRoute } from './root-routes.ts'
import { SOBJECT_NAMES, sobjectForId, type SObjectName, type SRecord } from './schema.ts'
import { addListView, addReport, addStandardListViews, mutateOrg, seedOrg, type ListViewSeed, type MutateResult, type ReportSeed, type SeedInput, type SeedResult } from './seed.ts'
import { registerSObjectRoutes } from './sobject-routes.ts'
import { createOrgData, lookupIn, table, type CreateOrgInput, type Org } from './state.ts'
import { createStats } from './stats.ts'
import { CODE_TTL_MS, createAuthState, newCode, registerApp, revokeRefreshToken, type ConnectedApp, type ConnectedAppInput } from './tokens.ts'

// A local Salesforce: login host (OAuth, identity) and org instance (REST API) in one Fastify
// server, with in-process control for tests and the same control over HTTP under /_sim.

export type { ConnectedApp, ConnectedAppInput } from './tokens.ts'
export type { CreateOrgInput } from './state.ts'
export type { FaultSpec, LatencySpec, RecordFaultSpec } from './faults.ts'
export type { EndpointName } from './endpoints.ts'
export type { SeedInput, SeedResult, CampaignSeed, ListViewSeed, ReportSeed, MutateResult } from './seed.ts'
export type { SObjectName } from './schema.ts'
export type { SimClock } from './clock.ts'

export interface SalesforceSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (ephemeral). */
  port?: number
  /** The URL clients use as login host and instance_url; default http://<host>:<port>. */
  publicUrl?: string
  apps?: ConnectedAppInput[]
  /** Orgs to create at start, each optionally seeded. */
  orgs?: (CreateOrgInput & { seed?: SeedInput })[]
  /** The authorize page redirects straight back, logged in as this org's user. */
  autoApprove?: { orgId: string }
  /** Refresh answers a new refresh token and retires the old one. Default false (Salesforce reuses them). */
  rotateRefreshTokens?: boolean
  /** Access token lifetime (the org's session timeout). Default 2 hours. */
  accessTokenTtlMs?: number
  /** Start the simulator clock at this time (it keeps running from there). */
  now?: number | Date
  /** Fastify logging. Default false. */
  logger?: boolean
}

export interface OrgInfo {
  orgId: string
  userId: string
  username: string
  dailyApiLimit: number
  /** `<login url>/id/<orgId>/<userId>` */
  identityUrl: string
}

export interface OrgStatsSnapshot {
  calls: number
  byEndpoint: Partial<Record<EndpointName, number>>
  apiUsage: { used: number; max: number }
  /** Refresh-token grant attempts (including ones answered invalid_grant). */
  tokenRefreshes: number
  tokensIssued: number
  records: Record<SObjectName, number>
}

export interface SimulatorStats {
  /** Every request received, including OAuth, identity and rejected ones. */
  total: number
  byEndpoint: Partial<Record<EndpointName, number>>
  orgs: Record<string, OrgStatsSnapshot>
}

/** A record as the REST API renders it (datetimes as strings, `attributes` included). */
export type RenderedRecord = Record<string, unknown>

export interface SalesforceSimulator {
  /** Login host and instance URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string
  readonly clock: SimClock
  registerConnectedApp(app: ConnectedAppInput): ConnectedApp
  createOrg(input?: CreateOrgInput): OrgInfo
  orgs(): OrgInfo[]
  seed(input: SeedInput & { orgId: string }): SeedResult
  mutate(input: { orgId: string; fraction: number }): MutateResult
  addListView(orgId: string, input: ListViewSeed): { id: string; developerName: string }
  addReport(orgId: string, input: ReportSeed): { id: string; name: string }
  /** `null` turns it off: the authorize page asks again. */
  setAutoApprove(target: { orgId: string } | null): void
  /** An authorization code as if the user had clicked Allow (for tests that skip the browser). */
  issueAuthorizationCode(input: { clientId: string; redirectUri: string; orgId: string; scopes?: string[]; codeChallenge?: string }): string
  /** Every current access token (of one org, or all) is expired: the next REST call answers 401. */
  expireAccessTokens(orgId?: string): void
  /** Revokes access and refresh tokens (the admin uninstalled the app): refresh answers invalid_grant. */
  revokeTokens(orgId?: string): void
  /** The next `times` refresh attempts (default: all) answer invalid_grant. */
  failRefresh(options?: { orgId?: string; times?: number }): void
  setRotateRefreshTokens(rotate: boolean): void
  failNext(spec: FaultSpec): void
  failNextRecords(spec: RecordFaultSpec): void
  setLatency(spec: LatencySpec): void
  clearFaults(): void
  /** Pretend `used` API calls were made today (e.g. to test the daily limit quickly). */
  setApiUsage(orgId: string, used: number): void
  stats(): SimulatorStats
  resetStats(): void
  records(orgId: string, type: SObjectName, filter?: (record: RenderedRecord) => boolean): RenderedRecord[]
  getRecord(orgId: string, id: string): RenderedRecord | undefined
  /** Tasks written to the org, optionally only those of one Contact or Lead. */
  tasks(orgId: string, whoId?: string): RenderedRecord[]
  close(): Promise<void>
}

const RENDER_VERSION = 'v62.0'

function restErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | SfError, request, reply) => {
    if (error instanceof SfError) return reply.code(error.status).send(error.body())
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send([{ message: `Content type '${request.headers['content-type'] ?? ''}' is not supported`, errorCode: 'UNSUPPORTED_MEDIA_TYPE' }])
    }
    if (error.statusCode === 400 || error instanceof SyntaxError) {
      return reply.code(400).send([{ message: `JSON parse error: ${error.message}`, errorCode: 'JSON_PARSER_ERROR' }])
    }
    if (error.statusCode === 413) return reply.code(413).send([{ message: 'Request body too large', errorCode: 'REQUEST_ENTITY_TOO_LARGE' }])
    request.log.error(error)
    return reply.code(500).send([{ message: `An unexpected error occurred: ${error.message}`, errorCode: 'UNKNOWN_EXCEPTION' }])
  })
}

export async function startSalesforceSimulator(options: SalesforceSimulatorOptions = {}): Promise<SalesforceSimulator> {
  const clock = createClock(options.now)
  const host = options.host ?? '127.0.0.1'
  let baseUrl = options.publicUrl?.replace(/\/+$/, '') ?? ''
  const ctx: SimContext = {
    clock,
    orgs: new Map(),
    auth: createAuthState(),
    faults: createFaults(),
    stats: createStats(),
    cursors: createCursorStore(),
    options: { accessTokenTtlMs: options.accessTokenTtlMs ?? 2 * 3_600_000, rotateRefreshTokens: options.rotateRefreshTokens ?? false },
    baseUrl: () => baseUrl,
  }

  const orgOf = (orgId: string): Org => {
    const org = ctx.orgs.get(normalizeId(orgId) ?? orgId)
    if (!org) throw new Error(`unknown org ${orgId}`)
    return org
  }
  const info = (org: Org): OrgInfo => ({ orgId: org.orgId, userId: org.userId, username: org.username, dailyApiLimit: org.dailyApiLimit, identityUrl: identityUrl(baseUrl, org) })
  const render = (org: Org, type: SObjectName, record: SRecord) =>
    renderFullRecord(table(org, type).def.fields, type, record, RENDER_VERSION, lookupIn(org))
  const forOrgs = (orgId: string | undefined) => (orgId ? [orgOf(orgId)] : [...ctx.orgs.values()])

  const sim: SalesforceSimulator = {
    get url() {
      return baseUrl
    },
    clock,
    registerConnectedApp: (app) => registerApp(ctx.auth, app),
    createOrg(input = {}) {
      const org = createOrgData(input, ctx.orgs.size, clock.now())
      if (ctx.orgs.has(org.orgId)) throw new Error(`org ${org.orgId} exists`)
      ctx.orgs.set(org.orgId, org)
      addStandardListViews(org, clock.now())
      return info(org)
    },
    orgs: () => [...ctx.orgs.values()].map(info),
    seed: ({ orgId, ...input }) => seedOrg(orgOf(orgId), input, clock.now()),
    mutate: ({ orgId, fraction }) => {
      if (!(fraction >= 0 && fraction <= 1)) throw new Error('fraction must be between 0 and 1')
      return mutateOrg(orgOf(orgId), fraction, clock.now())
    },
    addListView(orgId, input) {
      const lv = addListView(orgOf(orgId), input, clock.now())
      return { id: lv.id, developerName: lv.developerName }
    },
    addReport(orgId, input) {
      const report = addReport(orgOf(orgId), input, clock.now())
      return { id: report.id, name: report.name }
    },
    setAutoApprove(target) {
      ctx.auth.autoApprove = target ? { orgId: orgOf(target.orgId).orgId } : undefined
    },
    issueAuthorizationCode({ clientId, redirectUri, orgId, scopes, codeChallenge }) {
      const org = orgOf(orgId)
      const app = ctx.auth.apps.get(clientId)
      if (!app) throw new Error(`unknown connected app ${clientId}`)
      const code = newCode()
      ctx.auth.codes.set(code, {
        clientId, redirectUri, orgId: org.orgId, userId: org.userId, scopes: scopes ?? app.scopes,
        challenge: codeChallenge, expiresAt: clock.now() + CODE_TTL_MS,
      })
      return code
    },
    expireAccessTokens(orgId) {
      const ids = new Set(forOrgs(orgId).map((o) => o.orgId))
      const now = clock.now()
      for (const t of ctx.auth.access.values()) if (ids.has(t.orgId)) t.expiresAt = Math.min(t.expiresAt, now)
    },
    revokeTokens(orgId) {
      const ids = new Set(forOrgs(orgId).map((o) => o.orgId))
      for (const [token, rt] of ctx.auth.refresh) if (ids.has(rt.orgId)) revokeRefreshToken(ctx.auth, token)
      for (const t of ctx.auth.access.values()) if (ids.has(t.orgId)) t.revoked = true
    },
    failRefresh(opts = {}) {
      ctx.auth.refreshFailures.push({ orgId: opts.orgId ? orgOf(opts.orgId).orgId : undefined, remaining: opts.times ?? Infinity })
    },
    setRotateRefreshTokens(rotate) {
      ctx.options.rotateRefreshTokens = rotate
    },
    failNext: (spec) => ctx.faults.failNext(spec.orgId ? { ...spec, orgId: orgOf(spec.orgId).orgId } : spec),
    failNextRecords: (spec) => ctx.faults.failNextRecords(spec),
    setLatency: (spec) => ctx.faults.setLatency(spec),
    clearFaults() {
      ctx.faults.clear()
      ctx.auth.refreshFailures = []
    },
    setApiUsage: (orgId, used) => setApiUsed(orgOf(orgId).usage, clock.now(), used),
    stats() {
      const now = clock.now()
      const orgs: Record<string, OrgStatsSnapshot> = {}
      for (const org of ctx.orgs.values()) {
        orgs[org.orgId] = {
          calls: org.stats.calls,
          byEndpoint: { ...org.stats.byEndpoint },
          apiUsage: { used: apiUsed(org.usage, now), max: org.dailyApiLimit },
          tokenRefreshes: org.stats.tokenRefreshes,
          tokensIssued: org.stats.tokensIssued,
          records: Object.fromEntries(SOBJECT_NAMES.map((t) => [t, table(org, t).records.size])) as Record<SObjectName, number>,
        }
      }
      return { total: ctx.stats.total, byEndpoint: { ...ctx.stats.byEndpoint }, orgs }
    },
    resetStats() {
      ctx.stats.total = 0
      ctx.stats.byEndpoint = {}
      for (const org of ctx.orgs.values()) org.stats = { calls: 0, byEndpoint: {}, tokenRefreshes: 0, tokensIssued: 0 }
    },
    records(orgId, type, filter) {
      const org = orgOf(orgId)
      const out: RenderedRecord[] = []
      for (const r of table(org, type).records.values()) {
        const rendered = render(org, type, r)
        if (!filter || filter(rendered)) out.push(rendered)
      }
      return out
    },
    getRecord(orgId, id) {
      const org = orgOf(orgId)
      const canonical = normalizeId(id)
      const type = canonical ? sobjectForId(canonical) : undefined
      const record = type && canonical ? table(org, type).records.get(canonical) : undefined
      return type && record ? render(org, type, record) : undefined
    },
    tasks(orgId, whoId) {
      const who = whoId ? normalizeId(whoId) : undefined
      return sim.records(orgId, 'Task', (t) => !whoId || t.WhoId === who)
    },
    close: () => app.close(),
  }

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 * 1024, routerOptions: { ignoreTrailingSlash: true } })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  await app.register(async (scope) => registerOAuthRoutes(scope, ctx))
  await app.register(async (scope) => {
    restErrorHandler(scope)
    registerRestGuard(scope, ctx)
    registerRootRoutes(scope, ctx)
    registerQueryRoutes(scope, ctx)
    registerSObjectRoutes(scope, ctx)
    registerCollectionRoutes(scope, ctx)
    registerListViewRoutes(scope, ctx)
    registerReportRoutes(scope, ctx)
  }, { prefix: '/services/data/:version' })
  registerVersionsRoute(app)
  await app.register(async (scope) => registerControlRoutes(scope, sim, ctx), { prefix: '/_sim' })
  app.setNotFoundHandler((_request, reply) => reply.code(404).send([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]))

  const address = await app.listen({ host, port: options.port ?? 0 })
  if (!baseUrl) {
    const port = new URL(address).port
    baseUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`
  }

  for (const a of options.apps ?? []) sim.registerConnectedApp(a)
  for (const { seed, ...org } of options.orgs ?? []) {
    const created = sim.createOrg(org)
    if (seed) sim.seed({ ...seed, orgId: created.orgId })
  }
  if (options.autoApprove) sim.setAutoApprove(options.autoApprove)
  return sim
}
