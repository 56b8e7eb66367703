import type { CrmAdapter, CrmCallObserver, CrmKind, SegmentSourceType, TokenSource } from './crm-adapter.ts'

// What the connector needs of a CRM beyond one installation's adapter: its OAuth install flow,
// the signature check of the requests it sends us, and a factory for adapters. Each CRM folder's
// index.ts exports one; the registry maps kinds to them. Providers take options of their own,
// never the connector's configuration.

/** Where an install starts, and what the callback needs back (kept with the single-use state). */
export interface AuthorizationStart {
  url: string
  /** The login host the install went to (Salesforce: production, sandbox or a My Domain); null where the CRM has one. */
  loginUrl: string | null
  /** PKCE verifier to keep (encrypted) until the callback; null where the flow uses none. */
  codeVerifier: string | null
}

/** An install's outcome: the tokens and the account they belong to. */
export interface Grant {
  accessToken: string
  refreshToken: string | null
  expiresInSeconds: number | null
  scopes: string[]
  /** Scopes the app needs that the admin did not grant; features needing them stay off. */
  missingScopes: string[]
  /** HubSpot portal id, Salesforce org id. */
  accountId: string
  accountName: string | null
  userId: string | null
  /** Salesforce `instance_url`; null for HubSpot. */
  instanceUrl: string | null
}

export interface RefreshedTokens {
  accessToken: string
  /** Present when the CRM rotated the refresh token. */
  refreshToken?: string
  expiresInSeconds?: number
  instanceUrl?: string
}

export interface CrmOAuth {
  /** The consent-screen URL for an install; `login` is the install's own choice of login host, where the CRM has several. */
  authorize(params: { redirectUri: string; state: string; login?: string }): AuthorizationStart
  exchange(params: { code: string; redirectUri: string; loginUrl: string | null; codeVerifier: string | null }): Promise<Grant>
  refresh(params: { refreshToken: string; loginUrl: string | null }): Promise<RefreshedTokens>
  revoke(params: { token: string; loginUrl: string | null }): Promise<void>
}

/** A request as received, for checking the CRM's signature on its raw bytes. */
export interface SignedRequest {
  method: string
  /** The full URL the CRM called (public URL plus path and query). */
  url: string
  rawBody: Buffer
  headers: Record<string, string | string[] | undefined>
  now?: number
}

export type SignatureProblem = 'missing' | 'stale' | 'mismatch'

/** Keeps, per installation, which CRM activity records each WhatsApp message (kept by the connector). */
export interface MessageActivityStore {
  load(messageIds: string[]): Promise<Array<{ messageId: string; activityId: string; state: string }>>
  save(entries: Array<{ messageId: string; activityId: string; state: string }>): Promise<void>
}

/** One installation, as an adapter needs it. */
export interface AdapterContext {
  installationId: string
  accountId: string
  instanceUrl: string | null
  tokens: TokenSource
  activities: MessageActivityStore
  observer?: CrmCallObserver
}

/** A share of a CRM account's API limit, as a token bucket: `burst` calls at once, refilled at `perSecond`. */
export interface CallBudget {
  burst: number
  perSecond: number
}

export interface CrmProvider {
  readonly kind: CrmKind
  /** The CRM's name as people read it. */
  readonly label: string
  /** The segment source types its adapters serve. */
  readonly sourceTypes: readonly SegmentSourceType[]
  /** Undefined while the connector has no client credentials for this CRM. */
  readonly oauth: CrmOAuth | undefined
  /** What an operator sets to configure it, for the error shown while it is not. */
  readonly setupHint: string
  /** Checks a request the CRM signed (webhooks, cards, actions); undefined where it signs none or is not configured. */
  readonly verifyRequest?: (request: SignedRequest) => SignatureProblem | undefined
  /** The headers its signatures come in: a request with none of them is refused before its body is read. */
  readonly signatureHeaders: readonly string[]
  /** The most records one consent or engagement write call takes (the CRM's batch maximum). */
  readonly writeBatchSize: number
  /** The write calls per account that every connector instance together may start for the outbox. */
  readonly writeBudget: CallBudget
  createAdapter(context: AdapterContext): CrmAdapter
}
