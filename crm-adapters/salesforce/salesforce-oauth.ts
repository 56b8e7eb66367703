import { OAuth2 } from 'jsforce'
import { CrmError, type CrmErrorCode } from '../crm-adapter.ts'
import { networkError, validationError } from './salesforce-errors.ts'

// OAuth 2.0 web server flow with PKCE against a Salesforce login host
// (https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.remoteaccess_oauth_web_server_flow_ca.htm).
// jsforce's OAuth2 builds the authorization URL and the code verifier; the token and revoke
// endpoints are called with fetch so they have a timeout, keep the HTTP status, and revoke's JSON
// error body is read (jsforce parses it as a form and loses the error code).

/** `api` for REST, `refresh_token` for offline access, `id` for the identity URL. */
export const SALESFORCE_SCOPES = 'api refresh_token id'

const PRODUCTION_LOGIN = 'https://login.salesforce.com'
const SANDBOX_LOGIN = 'https://test.salesforce.com'
const MY_DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.my\.salesforce\.com$/i
const TOKEN_TIMEOUT_MS = 30_000

const isSalesforceHost = (url: URL) => url.hostname === 'salesforce.com' || url.hostname.endsWith('.salesforce.com')

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`)
  } catch {
    return undefined
  }
}

/**
 * The login host for an install: `production` → the configured default (normally
 * https://login.salesforce.com); `sandbox` → https://test.salesforce.com, unless the default is
 * not a Salesforce host (a simulator), which then serves both; anything else must be a My Domain
 * (`https://<name>.my.salesforce.com`) or the configured default host itself. The authorization
 * code and client secret go to this host, so nothing else is accepted.
 */
export function loginHostFor(login: 'production' | 'sandbox' | (string & {}), defaultLoginUrl: string = PRODUCTION_LOGIN): string {
  const fallback = parseUrl(defaultLoginUrl)
  if (!fallback) throw validationError(`The default Salesforce login URL "${defaultLoginUrl}" is not a URL`)
  if (login === 'production') return fallback.origin
  if (login === 'sandbox') return isSalesforceHost(fallback) ? SANDBOX_LOGIN : fallback.origin
  const url = parseUrl(login.trim())
  const bare = url !== undefined && (url.pathname === '/' || url.pathname === '') && !url.search && !url.hash && !url.username && !url.password
  if (url && bare && url.protocol === 'https:' && !url.port && MY_DOMAIN.test(url.hostname)) return url.origin
  if (url && bare && (url.protocol === 'https:' || url.protocol === 'http:') && url.host === fallback.host) return url.origin
  throw validationError(`"${login.slice(0, 100)}" is not a Salesforce login: use production, sandbox or a My Domain URL like https://acme.my.salesforce.com`)
}

export interface AuthorizationRequest {
  loginUrl: string
  clientId: string
  redirectUri: string
  state: string
  scope?: string
}

/** The URL to send the user to, and the PKCE code verifier to store with `state` until the callback. */
export function authorizationUrl(request: AuthorizationRequest): { url: string; codeVerifier: string } {
  const oauth2 = new OAuth2({ loginUrl: request.loginUrl, clientId: request.clientId, redirectUri: request.redirectUri, useVerifier: true })
  // jsforce adds code_challenge = base64url(SHA-256(verifier)) but not the method; S256 is the only one Salesforce takes.
  const url = oauth2.getAuthorizationUrl({ scope: request.scope ?? SALESFORCE_SCOPES, state: request.state, code_challenge_method: 'S256' })
  if (!oauth2.codeVerifier) throw new Error('jsforce did not create a PKCE code verifier')
  return { url, codeVerifier: oauth2.codeVerifier }
}

/** Org and user ids from the identity URL `https://login.salesforce.com/id/<orgId>/<userId>`. */
export function parseIdentityUrl(identityUrl: string): { orgId: string; userId: string } {
  const match = /\/id\/(00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)\/(005[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)\/?$/.exec(parseUrl(identityUrl)?.pathname ?? '')
  if (!match) throw new CrmError({ crm: 'salesforce', code: 'UNKNOWN', message: `"${identityUrl.slice(0, 120)}" is not a Salesforce identity URL` })
  return { orgId: match[1] as string, userId: match[2] as string }
}

interface TokenResponse {
  access_token: string
  refresh_token?: string
  instance_url: string
  id: string
  issued_at: string
  scope?: string
}

export interface ClientCredentials {
  loginUrl: string
  clientId: string
  clientSecret?: string
}

export interface CodeExchange extends ClientCredentials {
  redirectUri: string
  code: string
  codeVerifier: string
}

export interface SalesforceInstallTokens {
  accessToken: string
  refreshToken: string
  instanceUrl: string
  orgId: string
  userId: string
  identityUrl: string
  issuedAt: Date
  scope: string
}

/** OAuth token-endpoint errors (`{ error, error_description }`) → CrmError codes. */
function oauthErrorCode(error: string, status: number): CrmErrorCode {
  if (error === 'invalid_grant') return 'INVALID_GRANT'
  if (error === 'invalid_client' || error === 'invalid_client_id' || error === 'unauthorized_client') return 'UNAUTHORIZED'
  if (status >= 500) return 'SERVER_ERROR'
  return 'VALIDATION_ERROR'
}

async function postForm<T>(url: string, form: Record<string, string | undefined>): Promise<T> {
  const body = new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined))
  let response: Response
  let text: string
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    })
    text = await response.text()
  } catch (cause) {
    throw networkError(cause)
  }
  let json: Record<string, unknown> | undefined
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    json = undefined
  }
  if (response.ok && json) return json as T
  const error = typeof json?.error === 'string' ? json.error : `HTTP_${response.status}`
  const description = typeof json?.error_description === 'string' ? json.error_description : text.replace(/\s+/g, ' ').slice(0, 200)
  throw new CrmError({
    crm: 'salesforce',
    code: oauthErrorCode(error, response.status),
    message: `Salesforce OAuth answered ${response.status} ${error}: ${description}`,
    platformCode: error,
    httpStatus: response.status,
  })
}

const endpoint = (loginUrl: string, path: string) => `${new URL(loginUrl).origin}/services/oauth2/${path}`

/** Exchanges the callback's code (with the stored PKCE verifier) for the installation's tokens. */
export async function exchangeCode(request: CodeExchange): Promise<SalesforceInstallTokens> {
  const res = await postForm<TokenResponse>(endpoint(request.loginUrl, 'token'), {
    grant_type: 'authorization_code',
    code: request.code,
    client_id: request.clientId,
    client_secret: request.clientSecret,
    redirect_uri: request.redirectUri,
    code_verifier: request.codeVerifier,
  })
  if (!res.refresh_token) {
    throw new CrmError({
      crm: 'salesforce', code: 'MISSING_SCOPES',
      message: 'Salesforce granted no refresh token: the connected app must allow the refresh_token (offline access) scope',
    })
  }
  const { orgId, userId } = parseIdentityUrl(res.id)
  return {
    accessToken: res.access_token,
    refreshToken: res.refresh_token,
    instanceUrl: res.instance_url,
    orgId,
    userId,
    identityUrl: res.id,
    issuedAt: new Date(Number(res.issued_at)),
    scope: res.scope ?? '',
  }
}

/** A new access token; Salesforce sends a new refresh token only when the app rotates them. */
export async function refreshAccessToken(request: ClientCredentials & { refreshToken: string }): Promise<{ accessToken: string; refreshToken?: string; instanceUrl: string }> {
  const res = await postForm<TokenResponse>(endpoint(request.loginUrl, 'token'), {
    grant_type: 'refresh_token',
    refresh_token: request.refreshToken,
    client_id: request.clientId,
    client_secret: request.clientSecret,
  })
  return { accessToken: res.access_token, ...(res.refresh_token ? { refreshToken: res.refresh_token } : {}), instanceUrl: res.instance_url }
}

/**
 * Revokes a refresh token (and the access tokens issued from it) or an access token. A token
 * Salesforce no longer knows is answered `unsupported_token_type`: that is `already_invalid`.
 */
export async function revokeToken(request: { loginUrl: string; token: string }): Promise<'revoked' | 'already_invalid'> {
  try {
    await postForm<unknown>(endpoint(request.loginUrl, 'revoke'), { token: request.token })
    return 'revoked'
  } catch (error) {
    if (error instanceof CrmError && error.platformCode === 'unsupported_token_type') return 'already_invalid'
    throw error
  }
}
