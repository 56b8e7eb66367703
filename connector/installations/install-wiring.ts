import { createHash } from 'node:crypto'
import { CrmError } from '../../crm-adapters/crm-adapter.ts'
import { exchangeCode as hubspotExchange, introspectToken, refreshAccessToken as hubspotRefresh, revokeToken as hubspotRevoke } from '../../crm-adapters/hubspot/hubspot-oauth.ts'
import type { Config } from '../config.ts'
import { exchangeCode as salesforceExchange, loginHostFor, refreshAccessToken as salesforceRefresh, revokeToken as salesforceRevoke } from '../../crm-adapters/salesforce/salesforce-oauth.ts'
import { salesforceScopes } from '../manifest/manifest.ts'
import type { HubSpotOAuth, SalesforceOAuth } from './crm-oauth.ts'

// Binds the install flow to each CRM's OAuth endpoints (through the adapters' OAuth helpers) using
// this connector's configuration.

export function hubspotOAuth(config: Config): HubSpotOAuth | undefined {
  const { clientId, clientSecret, apiBase, authUrl } = config.hubspot
  if (!clientId || !clientSecret) return undefined
  const client = { apiBase, clientId, clientSecret }
  return {
    authorizeUrl({ redirectUri, scopes, optionalScopes, state }) {
      // Scopes are space-separated (reference hubspot.md §1).
      const url = new URL(authUrl)
      url.searchParams.set('client_id', clientId)
      url.searchParams.set('redirect_uri', redirectUri)
      url.searchParams.set('scope', scopes.join(' '))
      if (optionalScopes.length) url.searchParams.set('optional_scope', optionalScopes.join(' '))
      url.searchParams.set('state', state)
      return url.toString()
    },
    async exchangeCode({ code, redirectUri }) {
      const t = await hubspotExchange({ ...client, code, redirectUri })
      // hub_id and scopes come with the token since 2025-08; introspection fills them in otherwise,
      // and gives the portal's domain for display.
      const info = await introspectToken({ ...client, token: t.accessToken }).catch((error: unknown) => {
        if (t.hubId === undefined) throw error
        return undefined
      })
      const hubId = t.hubId ?? info?.hubId
      if (hubId === undefined) throw new CrmError({ crm: 'hubspot', code: 'UNKNOWN', message: 'HubSpot did not say which portal the token belongs to' })
      return {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken,
        expiresInSeconds: t.expiresIn,
        scopes: t.scopes.length ? t.scopes : info?.scopes ?? [],
        hubId: String(hubId),
        hubDomain: info?.hubDomain ?? null,
        userId: info?.userId === undefined ? null : String(info.userId),
      }
    },
    async refresh(refreshToken) {
      const t = await hubspotRefresh({ ...client, refreshToken })
      return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresInSeconds: t.expiresIn }
    },
    async revoke(refreshToken) {
      await hubspotRevoke({ ...client, token: refreshToken, tokenTypeHint: 'refresh_token' })
    },
  }
}

/** PKCE S256 challenge for a verifier (RFC 7636 §4.2). */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** Binds the install flow to Salesforce's OAuth endpoints (web-server flow with PKCE). */
export function salesforceOAuth(config: Config): SalesforceOAuth | undefined {
  const { clientId, clientSecret, loginUrl: defaultLoginUrl } = config.salesforce
  if (!clientId || !clientSecret) return undefined
  return {
    loginHost: (login) => loginHostFor(login, defaultLoginUrl),
    authorizeUrl({ loginUrl, redirectUri, state, codeVerifier }) {
      const url = new URL('/services/oauth2/authorize', loginUrl)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('client_id', clientId)
      url.searchParams.set('redirect_uri', redirectUri)
      url.searchParams.set('scope', salesforceScopes().join(' '))
      url.searchParams.set('state', state)
      url.searchParams.set('code_challenge', codeChallenge(codeVerifier))
      url.searchParams.set('code_challenge_method', 'S256')
      return url.toString()
    },
    async exchangeCode({ loginUrl, code, redirectUri, codeVerifier }) {
      const t = await salesforceExchange({ loginUrl, clientId, clientSecret, redirectUri, code, codeVerifier })
      return {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken ?? null,
        expiresInSeconds: null,
        scopes: t.scope ? t.scope.split(' ').filter(Boolean) : [],
        orgId: t.orgId,
        userId: t.userId,
        instanceUrl: t.instanceUrl,
      }
    },
    async refresh({ loginUrl, refreshToken }) {
      const t = await salesforceRefresh({ loginUrl, clientId, clientSecret, refreshToken })
      return { accessToken: t.accessToken, refreshToken: t.refreshToken ?? null, instanceUrl: t.instanceUrl ?? null }
    },
    async revoke({ loginUrl, token }) {
      await salesforceRevoke({ loginUrl: loginUrl || defaultLoginUrl, token })
    },
  }
}
