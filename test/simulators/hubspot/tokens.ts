// Issuing and looking up OAuth tokens.
import { randomBytes, randomUUID } from 'node:crypto'
import type { SimState } from './state.ts'
import type { AccessToken, RefreshToken } from './types.ts'

export interface Grant {
  appId: number
  portalId: number
  scopes: string[]
  userId: number
}

/** Access tokens vary in length on HubSpot (up to ~300 chars); these are ~130 so nobody hardcodes a size. */
function newAccessToken(): string {
  return `C${randomBytes(96).toString('base64url')}`
}

export function issueAccessToken(state: SimState, grant: Grant): AccessToken {
  const now = Date.now()
  const token: AccessToken = {
    token: newAccessToken(),
    ...grant,
    issuedAt: now,
    expiresAt: now + state.config.accessTokenTtlMs,
    revoked: false,
  }
  state.accessTokens.set(token.token, token)
  return token
}

export function issueRefreshToken(state: SimState, grant: Grant): RefreshToken {
  const token: RefreshToken = { token: `na1-${randomUUID()}`, ...grant, revoked: false }
  state.refreshTokens.set(token.token, token)
  return token
}

/** HubSpot's token endpoint response (hub_id and scopes included since 2025-08). */
export interface TokenResponse {
  token_type: 'bearer'
  access_token: string
  refresh_token: string
  expires_in: number
  hub_id: number
  scopes: string[]
}

export function tokenResponse(state: SimState, access: AccessToken, refresh: RefreshToken): TokenResponse {
  return {
    token_type: 'bearer',
    access_token: access.token,
    refresh_token: refresh.token,
    expires_in: Math.round(state.config.accessTokenTtlMs / 1000),
    hub_id: access.portalId,
    scopes: access.scopes,
  }
}

type AccessTokenStatus = { ok: true; token: AccessToken } | { ok: false; reason: 'unknown' | 'revoked' | 'expired'; token?: AccessToken }

export function checkAccessToken(state: SimState, value: string, now = Date.now()): AccessTokenStatus {
  const token = state.accessTokens.get(value)
  if (!token) return { ok: false, reason: 'unknown' }
  if (token.revoked) return { ok: false, reason: 'revoked', token }
  if (token.expiresAt <= now) return { ok: false, reason: 'expired', token }
  return { ok: true, token }
}

export function activeRefreshToken(state: SimState, value: string | undefined): RefreshToken | undefined {
  const token = value ? state.refreshTokens.get(value) : undefined
  return token && !token.revoked ? token : undefined
}
