import { CrmError } from '../crm-adapter.ts'
import type { AdapterContext, CrmOAuth, CrmProvider, Grant } from '../crm-provider.ts'
import type { CommunicationStore } from './hubspot-engagement.ts'
import { HubSpotAdapter } from './hubspot-adapter.ts'
import type { AppProperties } from './hubspot-properties.ts'
import { CONSENT_BATCH_MAX } from './hubspot-consent.ts'
import { exchangeCode, introspectToken, refreshAccessToken, revokeToken } from './hubspot-oauth.ts'
import { HubSpotRateLimiter, type WindowLimit } from './rate-limiter.ts'
import { checkHubSpotV3 } from './request-signature.ts'

// HubSpot as the connector sees it: the OAuth install of a public app, the v3 signature on what
// HubSpot sends, and one adapter per installation sharing one rate limiter per portal.

export interface HubSpotProviderOptions {
  /** The public app's client id and secret; without them nothing can be installed or verified. */
  credentials?: { clientId: string; clientSecret: string }
  /** `https://api.hubapi.com`, or a simulator. */
  apiBase: string
  /** `https://app.hubspot.com/oauth/authorize`, or a simulator. */
  authUrl: string
  requiredScopes: string[]
  optionalScopes: string[]
  /** Requests per window the connector allows itself per portal; unset: the limiter's default. */
  rateLimit?: WindowLimit
  /** The contact properties mirroring WhatsApp consent, when it last changed and where from. */
  consentProperty: string
  consentDateProperty: string
  consentSourceProperty: string
  /** The app's property group and contact properties, created in each portal at install (CrmAdapter.provision). */
  properties: AppProperties
  setupHint: string
}

export function hubspotProvider(options: HubSpotProviderOptions): CrmProvider {
  const limiters = new Map<string, HubSpotRateLimiter>()
  const credentials = options.credentials
  return {
    kind: 'hubspot',
    label: 'HubSpot',
    sourceTypes: ['hubspot_list'],
    setupHint: options.setupHint,
    signatureHeaders: ['x-hubspot-signature-v3'],
    writeBatchSize: CONSENT_BATCH_MAX,
    // At most 10 + 3 × 10 = 40 calls in any 10 s window, under half the portal's 100 per 10 s,
    // leaving the rest to syncs, sends' engagement and the in-process limiter's headroom.
    writeBudget: { burst: 10, perSecond: 3 },
    oauth: credentials ? hubspotOAuth({ ...options, credentials }) : undefined,
    ...(credentials ? { verifyRequest: (request) => checkHubSpotV3(request, credentials.clientSecret) } : {}),
    createAdapter(context: AdapterContext) {
      // Every installation of one portal shares the portal's limit.
      let limiter = limiters.get(context.accountId)
      if (!limiter) {
        limiter = new HubSpotRateLimiter(options.rateLimit ? { burst: options.rateLimit } : {})
        limiters.set(context.accountId, limiter)
      }
      return new HubSpotAdapter({
        apiBase: options.apiBase,
        tokens: context.tokens,
        communications: communicationsOf(context),
        rateLimit: limiter,
        consentProperty: options.consentProperty,
        consentDateProperty: options.consentDateProperty,
        consentSourceProperty: options.consentSourceProperty,
        appProperties: options.properties,
        ...(context.observer ? { observer: context.observer } : {}),
      })
    },
  }
}

function communicationsOf({ activities }: AdapterContext): CommunicationStore {
  return {
    load: async (ids) => (await activities.load(ids)).map((a) => ({ messageId: a.messageId, communicationId: a.activityId, state: a.state })),
    save: (entries) => activities.save(entries.map((e) => ({ messageId: e.messageId, activityId: e.communicationId, state: e.state }))),
  }
}

function hubspotOAuth(options: HubSpotProviderOptions & { credentials: { clientId: string; clientSecret: string } }): CrmOAuth {
  const client = { apiBase: options.apiBase, ...options.credentials }
  return {
    authorize({ redirectUri, state }) {
      // Scopes are space-separated (reference hubspot.md §1).
      const url = new URL(options.authUrl)
      url.searchParams.set('client_id', client.clientId)
      url.searchParams.set('redirect_uri', redirectUri)
      url.searchParams.set('scope', options.requiredScopes.join(' '))
      if (options.optionalScopes.length) url.searchParams.set('optional_scope', options.optionalScopes.join(' '))
      url.searchParams.set('state', state)
      return { url: url.toString(), loginUrl: null, codeVerifier: null }
    },
    async exchange({ code, redirectUri }): Promise<Grant> {
      const t = await exchangeCode({ ...client, code, redirectUri })
      // hub_id and scopes come with the token since 2025-08; introspection fills them in otherwise,
      // and gives the portal's domain for display.
      const info = await introspectToken({ ...client, token: t.accessToken }).catch((error: unknown) => {
        if (t.hubId === undefined) throw error
        return undefined
      })
      const hubId = t.hubId ?? info?.hubId
      if (hubId === undefined) throw new CrmError({ crm: 'hubspot', code: 'UNKNOWN', message: 'HubSpot did not say which portal the token belongs to' })
      const scopes = t.scopes.length ? t.scopes : info?.scopes ?? []
      return {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken,
        expiresInSeconds: t.expiresIn,
        scopes,
        missingScopes: options.requiredScopes.filter((s) => !scopes.includes(s)),
        accountId: String(hubId),
        accountName: info?.hubDomain ?? null,
        userId: info?.userId === undefined ? null : String(info.userId),
        instanceUrl: null,
      }
    },
    async refresh({ refreshToken }) {
      const t = await refreshAccessToken({ ...client, refreshToken })
      return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresInSeconds: t.expiresIn }
    },
    async revoke({ token }) {
      await revokeToken({ ...client, token, tokenTypeHint: 'refresh_token' })
    },
  }
}
