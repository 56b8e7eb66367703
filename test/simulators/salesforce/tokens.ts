import { createHash, createHmac, randomBytes } from 'node:crypto'

// Connected apps, authorization codes and tokens. Access tokens look like Salesforce session ids
// (`<15-char org id>!<random>`), so code that parses the org prefix keeps working.

export interface ConnectedAppInput {
  clientId: string
  clientSecret: string
  callbackUrls: string[]
  /** Scopes the app may grant. Default: api, refresh_token, offline_access, id, openid, web. */
  scopes?: string[]
  /** Authorize requests must carry a code_challenge (External Client Apps require PKCE). Default true. */
  requirePkce?: boolean
  /** The token endpoint requires client_secret (web server and refresh flows). Default true. */
  requireSecret?: boolean
}

export type ConnectedApp = Required<ConnectedAppInput>

export interface AuthCode {
  clientId: string
  redirectUri: string
  orgId: string
  userId: string
  scopes: string[]
  challenge: string | undefined
  expiresAt: number
}

export interface AccessToken {
  orgId: string
  userId: string
  clientId: string
  scopes: string[]
  expiresAt: number
  revoked: boolean
  /** The refresh token it came from; revoking that one revokes this one too. */
  refreshToken: string | undefined
}

export interface RefreshToken {
  orgId: string
  userId: string
  clientId: string
  scopes: string[]
  revoked: boolean
}

export interface AuthState {
  apps: Map<string, ConnectedApp>
  codes: Map<string, AuthCode>
  access: Map<string, AccessToken>
  refresh: Map<string, RefreshToken>
  /** Refresh attempts that must fail with invalid_grant (per org, or any org when orgId is absent). */
  refreshFailures: { orgId: string | undefined; remaining: number }[]
  autoApprove: { orgId: string } | undefined
}

export const DEFAULT_SCOPES = ['api', 'refresh_token', 'offline_access', 'id', 'openid', 'web']
/** Authorization codes are valid for 15 minutes and usable once. */
export const CODE_TTL_MS = 15 * 60_000

export function createAuthState(): AuthState {
  return { apps: new Map(), codes: new Map(), access: new Map(), refresh: new Map(), refreshFailures: [], autoApprove: undefined }
}

export function registerApp(state: AuthState, input: ConnectedAppInput): ConnectedApp {
  const app: ConnectedApp = {
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    callbackUrls: [...input.callbackUrls],
    scopes: input.scopes ?? DEFAULT_SCOPES,
    requirePkce: input.requirePkce ?? true,
    requireSecret: input.requireSecret ?? true,
  }
  state.apps.set(app.clientId, app)
  return app
}

const random = (bytes: number): string => randomBytes(bytes).toString('base64url')

export function newCode(): string {
  // Real codes are base64 with '=' padding, which must survive URL encoding.
  return `aPrx${random(48)}==`
}

export function newAccessToken(orgId: string): string {
  return `${orgId.slice(0, 15)}!AQ${random(72)}`
}

export function newRefreshToken(): string {
  return `5Aep861${random(60)}`
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** Salesforce signs `id + issued_at` with the consumer secret (HMAC-SHA256, base64). */
export function tokenSignature(clientSecret: string, id: string, issuedAt: string): string {
  return createHmac('sha256', clientSecret).update(id + issuedAt).digest('base64')
}

export function takeRefreshFailure(state: AuthState, orgId: string): boolean {
  const hit = state.refreshFailures.find((f) => !f.orgId || f.orgId === orgId)
  if (!hit) return false
  hit.remaining -= 1
  if (hit.remaining <= 0) state.refreshFailures = state.refreshFailures.filter((f) => f !== hit)
  return true
}

export function revokeRefreshToken(state: AuthState, token: string): void {
  const rt = state.refresh.get(token)
  if (!rt) return
  rt.revoked = true
  for (const at of state.access.values()) if (at.refreshToken === token) at.revoked = true
}
