import type { AdapterContext, CrmOAuth, CrmProvider } from '../crm-provider.ts'
import { validationError } from './salesforce-errors.ts'
import { SalesforceAdapter } from './salesforce-adapter.ts'
import { COLLECTION_MAX } from './salesforce-writes.ts'
import type { PackageFields } from './salesforce-soql.ts'
import { authorizationUrl, exchangeCode, loginHostFor, refreshAccessToken, revokeToken } from './salesforce-oauth.ts'

// Salesforce as the connector sees it: the web-server OAuth flow with PKCE against the login host
// each install names (production, sandbox or a My Domain), and one adapter per org. Salesforce
// signs nothing it sends us: the Flow action authenticates with a per-installation key instead.

export interface SalesforceProviderOptions {
  /** The External Client App's consumer key and secret. */
  credentials?: { clientId: string; clientSecret: string }
  /** The login host `production` means (https://login.salesforce.com, or a simulator). */
  loginUrl: string
  scopes: string[]
  /** REST API version, e.g. '62.0'. */
  apiVersion: string
  /** The package's custom fields, unprefixed. */
  fields: PackageFields
  /** The managed package's namespace prefix for its custom fields. */
  namespace?: string
  /** Background calls stop once this share of the org's daily API allocation is used. */
  dailyLimitFraction: number
  setupHint: string
}

export function salesforceProvider(options: SalesforceProviderOptions): CrmProvider {
  return {
    kind: 'salesforce',
    label: 'Salesforce',
    sourceTypes: ['salesforce_campaign', 'salesforce_list_view', 'salesforce_report'],
    setupHint: options.setupHint,
    signatureHeaders: [],
    writeBatchSize: COLLECTION_MAX,
    // Salesforce meters calls per day (the adapter's guard pauses near the allocation), not per
    // second; this keeps an outage's backlog from spending a burst of the day's calls at once.
    writeBudget: { burst: 5, perSecond: 2 },
    oauth: options.credentials ? salesforceOAuth({ ...options, credentials: options.credentials }) : undefined,
    createAdapter(context: AdapterContext) {
      if (!context.instanceUrl) throw validationError('A Salesforce installation has an instance URL')
      return new SalesforceAdapter({
        instanceUrl: context.instanceUrl,
        tokens: context.tokens,
        apiVersion: options.apiVersion,
        fields: options.fields,
        dailyLimitGuard: options.dailyLimitFraction,
        ...(options.namespace ? { namespace: options.namespace } : {}),
        ...(context.observer ? { observer: context.observer } : {}),
      })
    },
  }
}

function salesforceOAuth(options: SalesforceProviderOptions & { credentials: { clientId: string; clientSecret: string } }): CrmOAuth {
  const { clientId, clientSecret } = options.credentials
  const loginOf = (loginUrl: string | null) => loginUrl ?? options.loginUrl
  return {
    authorize({ redirectUri, state, login }) {
      const loginUrl = loginHostFor(login ?? 'production', options.loginUrl)
      const { url, codeVerifier } = authorizationUrl({ loginUrl, clientId, redirectUri, state, scope: options.scopes.join(' ') })
      return { url, loginUrl, codeVerifier }
    },
    async exchange({ code, redirectUri, loginUrl, codeVerifier }) {
      if (!codeVerifier) throw validationError('A Salesforce install needs the PKCE verifier kept with its state')
      const t = await exchangeCode({ loginUrl: loginOf(loginUrl), clientId, clientSecret, redirectUri, code, codeVerifier })
      return {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken,
        expiresInSeconds: null,
        scopes: t.scope.split(' ').filter(Boolean),
        missingScopes: [],
        accountId: t.orgId,
        accountName: null,
        userId: t.userId,
        instanceUrl: t.instanceUrl,
      }
    },
    async refresh({ refreshToken, loginUrl }) {
      const t = await refreshAccessToken({ loginUrl: loginOf(loginUrl), clientId, clientSecret, refreshToken })
      return { accessToken: t.accessToken, instanceUrl: t.instanceUrl, ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}) }
    },
    async revoke({ token, loginUrl }) {
      await revokeToken({ loginUrl: loginOf(loginUrl), token })
    },
  }
}
