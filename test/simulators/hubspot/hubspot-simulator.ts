// Local HubSpot API simulator: one HTTP server playing both api.hubapi.com and the
// app.hubspot.com authorize page, with in-process (and /_sim HTTP) control for tests.
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { ApiError, errorBody } from './api-error.ts'
import { registerAppEventRoutes } from './app-events-routes.ts'
import { registerCommunicationRoutes } from './communications-routes.ts'
import { applyContactChanges, readContactProperty, validatedContactProperties } from './contact-store.ts'
import { registerContactRoutes } from './contacts-routes.ts'
import type { RateLimits, SimContext } from './context.ts'
import { Controls, type FailNextInput, type LatencyInput, type SimulatorStats } from './controls.ts'
import { COMPUTED_PROPERTIES } from './default-properties.ts'
import { membersByRecordId } from './list-store.ts'
import { registerListRoutes } from './lists-routes.ts'
import { registerAuthorizeRoutes } from './oauth-authorize-routes.ts'
import { registerTokenRoutes } from './oauth-token-routes.ts'
import type { AppInput, AutoConsent, HubSpotSimulatorOptions, PortalInput, RateLimitConfig } from './options.ts'
import { registerPropertyRoutes } from './properties-routes.ts'
import { RollingWindowLimiter } from './rate-limiter.ts'
import { type MutateInput, type MutateResult, mutatePortal, type SeedInput, type SeedResult, seedPortal } from './seed.ts'
import { registerControlRoutes } from './sim-routes.ts'
import { addApp, addPortal, createState, requireApp, requirePortal } from './state.ts'
import { registerTimelineV3Routes } from './timeline-v3-routes.ts'
import { issueAccessToken, issueRefreshToken, type TokenResponse, tokenResponse } from './tokens.ts'
import type {
  App,
  AppEventOccurrence,
  AppEventPropertyType,
  Communication,
  ContactValidationRule,
  Portal,
  PhoneTruth,
  TimelineEventRecord,
  WebhookDelivery,
  WorkflowCallback,
} from './types.ts'
import { isReplacedNumberedPath, replacedPathBody } from './versions.ts'
import { type ContactWebhookEventInput, WebhookDispatcher } from './webhook-dispatcher.ts'
import { registerWebhookRoutes } from './webhooks-routes.ts'
import { registerWorkflowActionRoutes } from './workflow-actions-routes.ts'
import { type InvokeWorkflowActionInput, invokeWorkflowAction, type WorkflowActionInvocation } from './workflow-invoke.ts'

export type { AppInput, AutoConsent, HubSpotSimulatorOptions, PortalInput, RateLimitConfig } from './options.ts'
export type { FailNextInput, LatencyInput, SimulatorStats } from './controls.ts'
export type { MutateInput, MutateResult, SeedInput, SeedListInput, SeedResult } from './seed.ts'
export type { ContactWebhookEventInput } from './webhook-dispatcher.ts'
export type { InvokeWorkflowActionInput, WorkflowActionInvocation } from './workflow-invoke.ts'
export type { PhoneCountry, PhoneFormat } from './phone-numbers.ts'
export type { TokenResponse } from './tokens.ts'
export type {
  AppEventOccurrence,
  Communication,
  ContactValidationRule,
  PhoneTruth,
  TimelineEventRecord,
  WebhookDelivery,
  WorkflowCallback,
} from './types.ts'
export { signatureV1, signatureV2, signatureV3 } from './signatures.ts'

export interface AppCredentials {
  appId: number
  clientId: string
  clientSecret: string
  developerApiKey: string
  redirectUris: string[]
}

export interface PortalInfo {
  portalId: number
  domain: string
  scopes: string[]
  userId: number
  userEmail: string
}

export interface InstallInput {
  portalId: number
  /** Default: the first registered app. */
  appId?: number
  /** Default: every scope the portal can grant. */
  scopes?: string[]
}

export interface EventTypeInput {
  name: string
  /** Default "contact". */
  objectType?: string
  properties: { name: string; type: AppEventPropertyType; options?: string[]; required?: boolean }[]
}

export interface ContactView {
  id: number
  /** Stored values plus hs_object_id, createdate, lastmodifieddate, hs_lastmodifieddate. */
  properties: Record<string, string>
  createdAt: number
  updatedAt: number
  /** Seeding ground truth for phone normalisation; null for contacts not seeded. */
  phoneTruth: PhoneTruth | null
}

export interface HubSpotSimulator {
  /** Base URL for both HUBSPOT_API_BASE and HUBSPOT_AUTH_URL (`${url}/oauth/authorize`). */
  readonly url: string
  close(): Promise<void>

  registerApp(input?: AppInput): AppCredentials
  createPortal(input?: PortalInput): PortalInfo
  apps(): AppCredentials[]
  portals(): PortalInfo[]
  /** Installs without the browser flow and returns a token response, as after a code exchange. */
  install(input: InstallInput): TokenResponse

  seed(input: SeedInput): SeedResult
  mutate(input: MutateInput): MutateResult
  getContact(portalId: number, contactId: number): ContactView | undefined
  /** A user edit in the HubSpot UI (changeSource CRM_UI); fires webhooks unless emitWebhooks is false. */
  setContactProperties(portalId: number, contactId: number, properties: Record<string, string>, options?: { emitWebhooks?: boolean }): void
  lists(portalId: number): SeedResult['lists']
  listMembers(portalId: number, listId: string): number[]
  communications(portalId: number, contactId?: number): Communication[]
  appEvents(portalId: number): AppEventOccurrence[]
  timelineEvents(portalId: number): TimelineEventRecord[]
  workflowCallbacks(): WorkflowCallback[]
  declareEventTypes(types: EventTypeInput[], appId?: number): void
  /** Admin validation rules for contact writes; enforced on the 2026-09 paths only, as HubSpot does. */
  setContactValidationRules(portalId: number, rules: ContactValidationRule[]): void

  stats(): SimulatorStats
  resetStats(): void
  failNext(input: FailNextInput): void
  clearFaults(): void
  setLatency(input: LatencyInput): void
  /** Replaces the given limits (and forgets their counters); `false` disables one. */
  setRateLimits(config: RateLimitConfig): void

  setAutoConsent(value: AutoConsent | null): void
  setRotateRefreshTokens(enabled: boolean): void
  expireAccessToken(token: string): void
  /** Expires every access token issued for the portal (what a connector holds is usually unknown to the test). */
  expireAccessTokens(portalId: number): void
  /** Revokes one access or refresh token. */
  revokeToken(token: string): void
  /** The account uninstalls the app: all its tokens for the portal stop working. */
  uninstall(portalId: number, appId?: number): void
  /** While enabled, refresh_token grants for the portal answer invalid_grant. */
  failRefresh(portalId: number, enabled?: boolean): void

  /** POSTs contact events (filled like HubSpot's) signed v1 + v3; target defaults to the app's webhook settings. */
  sendContactWebhooks(portalId: number, events: ContactWebhookEventInput[], targetUrl?: string, options?: { appId?: number }): Promise<WebhookDelivery>
  invokeWorkflowAction(input: InvokeWorkflowActionInput): Promise<WorkflowActionInvocation>
  /** Waits until automatic webhook deliveries triggered so far have been answered. */
  flushWebhooks(): Promise<void>
  webhookDeliveries(): WebhookDelivery[]
}

const DEFAULT_BURST = { max: 100, intervalMs: 10_000 }
const DEFAULT_SEARCH = { max: 4, intervalMs: 1_000 }

export async function startHubSpotSimulator(options: HubSpotSimulatorOptions = {}): Promise<HubSpotSimulator> {
  const state = createState(options)
  const controls = new Controls()
  const limits: RateLimits = { burst: null, search: null }
  applyRateLimits(limits, { burst: DEFAULT_BURST, search: DEFAULT_SEARCH, ...options.rateLimits })
  const webhooks = new WebhookDispatcher(state)
  const ctx: SimContext = { state, controls, limits, webhooks }
  if (options.latencyMs) controls.setLatency({ ms: options.latencyMs })

  // Access tokens run to ~130 chars and appear in legacy token-info paths.
  const server = Fastify({ logger: options.logger ?? false, forceCloseConnections: true, routerOptions: { maxParamLength: 1000 } })
  server.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))))
  })
  server.setErrorHandler((error, request, reply) => {
    if (error instanceof ApiError) return reply.code(error.statusCode).send(errorBody(error.category, error.message, error.extra))
    const statusCode = typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 500
    if (statusCode < 500) return reply.code(statusCode).send(errorBody('VALIDATION_ERROR', `Invalid input: ${(error as Error).message}`))
    request.log.error(error)
    return reply.code(500).send(errorBody('INTERNAL_ERROR', 'internal error'))
  })
  server.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    if (!isReplacedNumberedPath(path)) return reply.code(404).send(errorBody('OBJECT_NOT_FOUND', `No HubSpot API route for ${request.method} ${path}`))
    controls.recordRefusedNumbered(request.method, path)
    return reply.code(404).send(replacedPathBody(request.method, path))
  })
  controls.install(server)
  for (const register of [
    registerAuthorizeRoutes,
    registerTokenRoutes,
    registerListRoutes,
    registerContactRoutes,
    registerPropertyRoutes,
    registerCommunicationRoutes,
    registerAppEventRoutes,
    registerTimelineV3Routes,
    registerWebhookRoutes,
    registerWorkflowActionRoutes,
  ]) {
    register(server, ctx)
  }

  const portalOf = (portalId: number): Portal => requirePortal(state, portalId)
  const sim: HubSpotSimulator = {
    url: '',
    async close() {
      webhooks.close()
      await server.close()
    },

    registerApp: (input = {}) => credentials(addApp(state, input)),
    createPortal: (input = {}) => portalInfo(addPortal(state, input)),
    apps: () => [...state.apps.values()].map(credentials),
    portals: () => [...state.portals.values()].map(portalInfo),
    install(input) {
      const app = requireApp(state, input.appId)
      const portal = portalOf(input.portalId)
      const scopes = input.scopes ?? [...portal.grantableScopes]
      const grant = { appId: app.appId, portalId: portal.portalId, scopes, userId: portal.userId }
      state.installs.set(`${app.appId}:${portal.portalId}`, scopes)
      return tokenResponse(state, issueAccessToken(state, grant), issueRefreshToken(state, grant))
    },

    seed: (input) => seedPortal(ctx, input),
    mutate: (input) => mutatePortal(ctx, input),
    getContact(portalId, contactId) {
      const contact = portalOf(portalId).contacts.get(contactId)
      if (!contact) return undefined
      const properties = { ...contact.properties }
      for (const name of COMPUTED_PROPERTIES) properties[name] = readContactProperty(contact, name) ?? ''
      return { id: contact.id, properties, createdAt: contact.createdAt, updatedAt: contact.updatedAt, phoneTruth: contact.phoneTruth ?? null }
    },
    setContactProperties(portalId, contactId, properties, opts = {}) {
      const portal = portalOf(portalId)
      const contact = portal.contacts.get(contactId)
      if (!contact) throw new Error(`unknown contact ${contactId} in portal ${portalId}`)
      const source = opts.emitWebhooks === false ? null : { changeSource: 'CRM_UI', sourceId: `userId:${portal.userId}` }
      applyContactChanges(ctx, portal, contact, validatedContactProperties(portal, properties), source)
    },
    lists: (portalId) =>
      [...portalOf(portalId).lists.values()].map((l) => ({ listId: l.listId, name: l.name, size: l.members.size, processingType: l.processingType })),
    listMembers(portalId, listId) {
      const list = portalOf(portalId).lists.get(listId)
      if (!list) throw new Error(`unknown list ${listId} in portal ${portalId}`)
      return [...membersByRecordId(list)]
    },
    communications: (portalId, contactId) =>
      structuredClone([...portalOf(portalId).communications.values()].filter((c) => contactId === undefined || c.contactIds.includes(contactId))),
    appEvents: (portalId) => structuredClone(portalOf(portalId).appEvents),
    timelineEvents: (portalId) => structuredClone(portalOf(portalId).timelineEvents),
    workflowCallbacks: () => structuredClone([...state.callbacks.values()]),
    setContactValidationRules(portalId, rules) {
      portalOf(portalId).validationRules = structuredClone(rules)
    },
    declareEventTypes(types, appId) {
      const app = requireApp(state, appId)
      for (const type of types) app.eventTypes.set(type.name, { name: type.name, objectType: type.objectType ?? 'contact', properties: type.properties })
    },

    stats: () => controls.stats(),
    resetStats: () => controls.resetStats(),
    failNext: (input) => controls.failNext(input),
    clearFaults: () => controls.clearFaults(),
    setLatency: (input) => controls.setLatency(input),
    setRateLimits: (config) => applyRateLimits(limits, config),

    setAutoConsent(value) {
      state.config.autoConsent = value
    },
    setRotateRefreshTokens(enabled) {
      state.config.rotateRefreshTokens = enabled
    },
    expireAccessToken(token) {
      const t = state.accessTokens.get(token)
      if (!t) throw new Error('unknown access token')
      t.expiresAt = Math.min(t.expiresAt, Date.now())
    },
    expireAccessTokens(portalId) {
      const now = Date.now()
      for (const t of state.accessTokens.values()) if (t.portalId === portalId) t.expiresAt = Math.min(t.expiresAt, now)
    },
    revokeToken(token) {
      const t = state.accessTokens.get(token) ?? state.refreshTokens.get(token)
      if (!t) throw new Error('unknown token')
      t.revoked = true
    },
    uninstall(portalId, appId) {
      const app = requireApp(state, appId)
      for (const t of [...state.accessTokens.values(), ...state.refreshTokens.values()]) {
        if (t.portalId === portalId && t.appId === app.appId) t.revoked = true
      }
      state.installs.delete(`${app.appId}:${portalId}`)
    },
    failRefresh(portalId, enabled = true) {
      if (enabled) state.config.failingRefreshPortals.add(portalId)
      else state.config.failingRefreshPortals.delete(portalId)
    },

    sendContactWebhooks(portalId, events, targetUrl, opts = {}) {
      const app = requireApp(state, opts.appId)
      const target = targetUrl ?? app.webhookSettings?.targetUrl
      if (!target) throw new Error(`no targetUrl given and app ${app.appId} has no webhook settings`)
      return webhooks.sendContactEvents(app, portalOf(portalId).portalId, events, target)
    },
    invokeWorkflowAction: (input) => invokeWorkflowAction(state, input),
    flushWebhooks: () => webhooks.flush(),
    webhookDeliveries: () => structuredClone(webhooks.deliveries),
  }

  if (options.controlApi ?? true) registerControlRoutes(server, sim)
  await server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 })
  const address = server.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return Object.assign(sim, { url: `http://${host}:${address.port}` })
}

function applyRateLimits(limits: RateLimits, config: RateLimitConfig): void {
  if (config.burst !== undefined) limits.burst = config.burst ? new RollingWindowLimiter(config.burst) : null
  if (config.search !== undefined) limits.search = config.search ? new RollingWindowLimiter(config.search) : null
}

function credentials(app: App): AppCredentials {
  return { appId: app.appId, clientId: app.clientId, clientSecret: app.clientSecret, developerApiKey: app.developerApiKey, redirectUris: [...app.redirectUris] }
}

function portalInfo(portal: Portal): PortalInfo {
  return { portalId: portal.portalId, domain: portal.domain, scopes: [...portal.grantableScopes], userId: portal.userId, userEmail: portal.userEmail }
}
