// Public option types for startHubSpotSimulator() and the control helpers.

export interface AppInput {
  appId?: number
  clientId?: string
  clientSecret?: string
  /** Developer API key accepted as `?hapikey=` on the app-level APIs (webhooks, actions, timeline templates). */
  developerApiKey?: string
  /** Allowed redirect URIs; `['*']` (the default) accepts any http(s) URL. */
  redirectUris?: string[]
  /** Scopes configured in the app settings; when set, an authorize URL asking for others fails. */
  scopes?: string[]
}

export interface PortalInput {
  portalId?: number
  domain?: string
  /** Scopes the installing user can grant; default: every scope the simulator knows. */
  scopes?: string[]
  userId?: number
  userEmail?: string
}

export interface AutoConsent {
  portalId: number
  decision?: 'grant' | 'deny'
}

export interface WindowLimit {
  max: number
  intervalMs: number
}

export interface RateLimitConfig {
  /** Per app per portal; default 100 / 10 000 ms (TEN_SECONDLY_ROLLING). `false` disables. */
  burst?: WindowLimit | false
  /** CRM search per access token; default 4 / 1 000 ms. `false` disables. */
  search?: WindowLimit | false
}

export interface HubSpotSimulatorOptions {
  host?: string
  /** 0 (default) = ephemeral port. */
  port?: number
  /** Created at start; when omitted one default app (appId 3102938) is registered. Pass [] for none. */
  apps?: AppInput[]
  /** Created at start; when omitted one default portal (44312345) is created. Pass [] for none. */
  portals?: PortalInput[]
  /** Authorize requests redirect straight back with a code (or access_denied) instead of showing the page. */
  autoConsent?: AutoConsent | null
  /** Issue a new refresh token on every refresh and invalidate the old one. Default false (HubSpot keeps it). */
  rotateRefreshTokens?: boolean
  /** Default 1800, as HubSpot's `expires_in`. */
  accessTokenTtlSeconds?: number
  /** Default 300. */
  authorizationCodeTtlSeconds?: number
  rateLimits?: RateLimitConfig
  /** Answer 403 MISSING_SCOPES when a token lacks the API's scope. Default true. */
  enforceScopes?: boolean
  /** Added to every API response (ms). */
  latencyMs?: number
  /** Serve the `/_sim/...` control API. Default true. */
  controlApi?: boolean
  /** Clock used for seeded dates (ms); fixed by default so seeds are reproducible. */
  referenceTime?: number
  /** Fastify logger on/off. Default false. */
  logger?: boolean
}
