// HubSpot OAuth token calls on the date-versioned endpoints (api-versions.ts), which replace v1 (sunset 16 Feb 2027,
// https://developers.hubspot.com/changelog/v1-oauth-api-deprecation). @hubspot/api-client 13.5
// only wraps v1, hence plain fetch. All POST with a form body: no secret or token in any URL.
// No retries here: a code is single-use, and the connector serialises refreshes; failures say
// whether they are retryable.
import { CrmError, type CrmCallObserver, type CrmErrorCode } from '../crm-adapter.ts'
import { HUBSPOT_API_VERSIONS, hubspotPath } from './api-versions.ts'
import { redact } from './hubspot-errors.ts'
import { asArray, asNumber, asRecord, asString, type Json } from './json.ts'

const TOKEN = hubspotPath(HUBSPOT_API_VERSIONS, 'oauth', '/token')
const INTROSPECT = hubspotPath(HUBSPOT_API_VERSIONS, 'oauth', '/token/introspect')
const REVOKE = hubspotPath(HUBSPOT_API_VERSIONS, 'oauth', '/token/revoke')

export interface OAuthClient {
  apiBase: string
  clientId: string
  clientSecret: string
  observer?: CrmCallObserver
  /** Default 30 s. */
  timeoutMs?: number
}

export interface HubSpotTokens {
  accessToken: string
  refreshToken: string
  /** Seconds; HubSpot issues 30-minute tokens today, but always honour this. */
  expiresIn: number
  /** The portal (account) id; in token responses since Aug 2025, so undefined only from an older API. */
  hubId: number | undefined
  scopes: string[]
  tokenType: string
}

export interface TokenIntrospection {
  active: boolean
  tokenType?: string
  hubId?: number
  appId?: number
  userId?: number
  hubDomain?: string
  scopes: string[]
  /** Seconds left, for access tokens. */
  expiresIn?: number
}

export async function exchangeCode(input: OAuthClient & { redirectUri: string; code: string; codeVerifier?: string }): Promise<HubSpotTokens> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code: input.code, redirect_uri: input.redirectUri }
  if (input.codeVerifier) form.code_verifier = input.codeVerifier
  const body = await post(input, TOKEN, form, [input.code, input.codeVerifier])
  return tokens(body, undefined)
}

export async function refreshAccessToken(input: OAuthClient & { refreshToken: string }): Promise<HubSpotTokens> {
  const body = await post(input, TOKEN, { grant_type: 'refresh_token', refresh_token: input.refreshToken }, [input.refreshToken])
  // HubSpot keeps the refresh token on refresh; it is echoed, but don't depend on it.
  return tokens(body, input.refreshToken)
}

export async function introspectToken(input: OAuthClient & { token: string }): Promise<TokenIntrospection> {
  const body = await post(input, INTROSPECT, { token: input.token }, [input.token])
  const hubId = asNumber(pick(body, 'hub_id', 'hubId'))
  const appId = asNumber(pick(body, 'app_id', 'appId'))
  const userId = asNumber(pick(body, 'user_id', 'userId'))
  const expiresIn = asNumber(pick(body, 'expires_in', 'expiresIn'))
  const tokenType = asString(pick(body, 'token_type', 'tokenType'))
  const hubDomain = asString(pick(body, 'hub_domain', 'hubDomain'))
  return {
    active: body.active === true,
    scopes: scopes(body),
    ...(tokenType === undefined ? {} : { tokenType }),
    ...(hubId === undefined ? {} : { hubId }),
    ...(appId === undefined ? {} : { appId }),
    ...(userId === undefined ? {} : { userId }),
    ...(hubDomain === undefined ? {} : { hubDomain }),
    ...(expiresIn === undefined ? {} : { expiresIn }),
  }
}

/** Revoking a refresh token leaves issued access tokens working until they expire (reference §1). */
export async function revokeToken(input: OAuthClient & { token: string; tokenTypeHint?: 'access_token' | 'refresh_token' }): Promise<void> {
  const form: Record<string, string> = { token: input.token }
  if (input.tokenTypeHint) form.token_type_hint = input.tokenTypeHint
  await post(input, REVOKE, form, [input.token])
}

async function post(client: OAuthClient, path: string, fields: Record<string, string>, secrets: (string | undefined)[]): Promise<Json> {
  const endpoint = `POST ${path}`
  const hidden = [client.clientSecret, ...secrets]
  const form = new URLSearchParams({ ...fields, client_id: client.clientId, client_secret: client.clientSecret })
  const started = Date.now()
  let status: number | 'error' = 'error'
  let text: string
  try {
    const response = await fetch(client.apiBase.replace(/\/+$/, '') + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      signal: AbortSignal.timeout(client.timeoutMs ?? 30_000),
    })
    text = await response.text()
    status = response.status
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw new CrmError({ crm: 'hubspot', code: 'NETWORK_ERROR', message: redact(`HubSpot ${endpoint} failed: ${reason}`, hidden), cause })
  } finally {
    client.observer?.onCall?.({ crm: 'hubspot', endpoint, status, ms: Date.now() - started })
  }
  const body = parse(text)
  if (status >= 200 && status < 300) return body
  throw oauthError(endpoint, status, body, hidden)
}

/** RFC 6749 errors with HubSpot's legacy `status` kept: `{ error, error_description, status, message }`. */
function oauthError(endpoint: string, status: number, body: Json, hidden: (string | undefined)[]): CrmError {
  const error = asString(body.error)
  const legacy = asString(body.status)
  const code: CrmErrorCode =
    status === 429 ? 'RATE_LIMITED'
    : status >= 500 ? 'SERVER_ERROR'
    : error === 'invalid_grant' ? 'INVALID_GRANT'
    : error === 'invalid_client' || status === 401 ? 'UNAUTHORIZED'
    : status >= 400 && status < 500 ? 'VALIDATION_ERROR'
    : 'UNKNOWN'
  const detail = asString(body.error_description) ?? asString(body.message)
  return new CrmError({
    crm: 'hubspot',
    code,
    message: redact(`HubSpot ${endpoint} answered ${status}${error ? ` ${error}` : ''}${detail ? `: ${detail}` : ''}`, hidden),
    platformCode: legacy && legacy !== 'error' ? legacy : error,
    httpStatus: status,
  })
}

function tokens(body: Json, previousRefreshToken: string | undefined): HubSpotTokens {
  const accessToken = asString(pick(body, 'access_token', 'accessToken'))
  const refreshToken = asString(pick(body, 'refresh_token', 'refreshToken')) ?? previousRefreshToken
  const expiresIn = asNumber(pick(body, 'expires_in', 'expiresIn'))
  if (!accessToken || !refreshToken || expiresIn === undefined) {
    throw new CrmError({ crm: 'hubspot', code: 'UNKNOWN', message: 'HubSpot token response lacks access_token, refresh_token or expires_in' })
  }
  return {
    accessToken,
    refreshToken,
    expiresIn,
    hubId: asNumber(pick(body, 'hub_id', 'hubId')),
    scopes: scopes(body),
    tokenType: asString(pick(body, 'token_type', 'tokenType')) ?? 'bearer',
  }
}

/** The wire uses snake_case; newer HubSpot reference pages show camelCase, so accept either. */
function pick(body: Json, snake: string, camel: string): unknown {
  return body[snake] ?? body[camel]
}

/** `scopes` as an array, or RFC 6749's space-separated `scope`. */
function scopes(body: Json): string[] {
  const list = asArray(body.scopes).flatMap((s) => asString(s) ?? [])
  if (list.length > 0) return list
  return (asString(body.scope) ?? '').split(' ').filter(Boolean)
}

function parse(text: string): Json {
  try {
    return asRecord(JSON.parse(text))
  } catch {
    return {}
  }
}
