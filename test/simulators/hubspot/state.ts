// All mutable simulator state, plus the registry operations on apps and portals.
import { randomBytes } from 'node:crypto'
import { defaultContactProperties, defaultPropertyGroups } from './default-properties.ts'
import type { AppInput, AutoConsent, HubSpotSimulatorOptions, PortalInput } from './options.ts'
import { ALL_SCOPES } from './scopes.ts'
import type {
  AccessToken,
  App,
  AuthorizationCode,
  Contact,
  Portal,
  RefreshToken,
  WorkflowCallback,
} from './types.ts'

const DEFAULT_APP_ID = 3102938
const DEFAULT_PORTAL_ID = 44312345
/** 2026-01-01T00:00:00Z: seeded dates are relative to this unless `referenceTime` is given. */
const DEFAULT_REFERENCE_TIME = Date.UTC(2026, 0, 1)

export interface PendingConsent {
  id: string
  appId: number
  redirectUri: string
  requiredScopes: string[]
  optionalScopes: string[]
  state: string | undefined
  /** Account-specific authorize URL (`/oauth/{portalId}/authorize`) limits the choice. */
  portalId: number | null
  codeChallenge: AuthorizationCode['codeChallenge']
  expiresAt: number
}

interface SimConfig {
  accessTokenTtlMs: number
  authorizationCodeTtlMs: number
  rotateRefreshTokens: boolean
  enforceScopes: boolean
  autoConsent: AutoConsent | null
  /** Portals whose refreshes answer invalid_grant until cleared. */
  failingRefreshPortals: Set<number>
  referenceTime: number
}

export interface SimState {
  config: SimConfig
  apps: Map<number, App>
  portals: Map<number, Portal>
  /** `${appId}:${portalId}` → granted scopes; webhooks fan out to installed apps. */
  installs: Map<string, string[]>
  accessTokens: Map<string, AccessToken>
  refreshTokens: Map<string, RefreshToken>
  codes: Map<string, AuthorizationCode>
  consents: Map<string, PendingConsent>
  callbacks: Map<string, WorkflowCallback>
}

export function createState(options: HubSpotSimulatorOptions): SimState {
  const state: SimState = {
    config: {
      accessTokenTtlMs: (options.accessTokenTtlSeconds ?? 1800) * 1000,
      authorizationCodeTtlMs: (options.authorizationCodeTtlSeconds ?? 300) * 1000,
      rotateRefreshTokens: options.rotateRefreshTokens ?? false,
      enforceScopes: options.enforceScopes ?? true,
      autoConsent: options.autoConsent ?? null,
      failingRefreshPortals: new Set(),
      referenceTime: options.referenceTime ?? DEFAULT_REFERENCE_TIME,
    },
    apps: new Map(),
    portals: new Map(),
    installs: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    codes: new Map(),
    consents: new Map(),
    callbacks: new Map(),
  }
  for (const app of options.apps ?? [{ appId: DEFAULT_APP_ID }]) addApp(state, app)
  for (const portal of options.portals ?? [{ portalId: DEFAULT_PORTAL_ID }]) addPortal(state, portal)
  return state
}

const secret = (bytes: number): string => randomBytes(bytes).toString('hex')

export function addApp(state: SimState, input: AppInput): App {
  const appId = input.appId ?? nextId(state.apps, DEFAULT_APP_ID)
  if (state.apps.has(appId)) throw new Error(`app ${appId} already exists`)
  const app: App = {
    appId,
    clientId: input.clientId ?? `${secret(4)}-${secret(2)}-${secret(2)}-${secret(2)}-${secret(6)}`,
    clientSecret: input.clientSecret ?? `${secret(4)}-${secret(2)}-${secret(2)}-${secret(2)}-${secret(6)}`,
    developerApiKey: input.developerApiKey ?? `${secret(4)}-${secret(2)}-${secret(2)}-${secret(2)}-${secret(6)}`,
    redirectUris: input.redirectUris ?? ['*'],
    declaredScopes: input.scopes ?? null,
    webhookSettings: null,
    webhookSubscriptions: new Map(),
    actionDefinitions: new Map(),
    eventTypes: new Map(),
    timelineTemplates: new Map(),
  }
  for (const other of state.apps.values()) {
    if (other.clientId === app.clientId) throw new Error(`clientId ${app.clientId} already registered`)
  }
  state.apps.set(appId, app)
  return app
}

export function addPortal(state: SimState, input: PortalInput): Portal {
  const portalId = input.portalId ?? nextId(state.portals, DEFAULT_PORTAL_ID)
  if (state.portals.has(portalId)) throw new Error(`portal ${portalId} already exists`)
  const now = Date.now()
  const portal: Portal = {
    portalId,
    domain: input.domain ?? `sim-${portalId}.example.com`,
    grantableScopes: new Set(input.scopes ?? ALL_SCOPES),
    userId: input.userId ?? 7000000 + state.portals.size + 1,
    userEmail: input.userEmail ?? `admin@sim-${portalId}.example.com`,
    contacts: new Map(),
    contactOrder: [],
    nextContactId: 1001,
    generation: 0,
    lists: new Map(),
    nextListId: 1,
    properties: new Map(defaultContactProperties(now).map((p) => [p.name, p])),
    propertyGroups: new Map(defaultPropertyGroups().map((g) => [g.name, g])),
    communications: new Map(),
    nextCommunicationId: 50000000001,
    appEvents: [],
    appEventKeys: new Set(),
    timelineEvents: [],
    timelineEventKeys: new Set(),
    validationRules: [],
  }
  state.portals.set(portalId, portal)
  return portal
}

function nextId(existing: Map<number, unknown>, base: number): number {
  let id = base
  while (existing.has(id)) id++
  return id
}

export function requirePortal(state: SimState, portalId: number): Portal {
  const portal = state.portals.get(portalId)
  if (!portal) throw new Error(`unknown portal ${portalId}`)
  return portal
}

export function requireApp(state: SimState, appId?: number): App {
  const app = appId === undefined ? state.apps.values().next().value : state.apps.get(appId)
  if (!app) throw new Error(appId === undefined ? 'no app registered' : `unknown app ${appId}`)
  return app
}

export function findAppByClientId(state: SimState, clientId: string | undefined): App | undefined {
  if (!clientId) return undefined
  for (const app of state.apps.values()) if (app.clientId === clientId) return app
  return undefined
}

export function findAppByDeveloperKey(state: SimState, key: string | undefined): App | undefined {
  if (!key) return undefined
  for (const app of state.apps.values()) if (app.developerApiKey === key) return app
  return undefined
}

/** Stores a contact; ids only grow, so appending keeps `contactOrder` sorted. */
export function addContact(portal: Portal, contact: Contact): void {
  const last = portal.contactOrder.at(-1)
  portal.contacts.set(contact.id, contact)
  portal.contactOrder.push(contact)
  if (last !== undefined && last.id > contact.id) portal.contactOrder.sort((a, b) => a.id - b.id)
}
