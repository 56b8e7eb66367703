// The one seam between the connector and a CRM. Each CRM implements CrmAdapter in its own folder
// (hubspot/, salesforce/); adapters wrap the CRM's SDK and HTTP API and know nothing of Fastify or
// the connector's database. Tokens come in through a TokenSource the connector implements (it
// owns storage, encryption and single-flight refresh across instances).

export type CrmKind = 'hubspot' | 'salesforce'

/** Every kind of CRM list a segment can be made from; each provider serves some of them. */
export const SEGMENT_SOURCE_TYPES = ['hubspot_list', 'salesforce_campaign', 'salesforce_list_view', 'salesforce_report'] as const
export type SegmentSourceType = (typeof SEGMENT_SOURCE_TYPES)[number]

export interface SegmentSourceRef {
  type: SegmentSourceType
  id: string
}

export interface SegmentSource extends SegmentSourceRef {
  name: string
  /** Member count where the CRM reports it. */
  size?: number
  /** Salesforce list views and reports: the object their rows are (Contact or Lead). */
  objectType?: string
  /** HubSpot lists: MANUAL, DYNAMIC or SNAPSHOT. */
  processingType?: string
}

/** A person record in the CRM: a HubSpot contact, a Salesforce Contact or Lead. */
export interface CrmRecord {
  id: string
  objectType: 'contact' | 'lead'
  /** Only the properties asked for; values as the CRM returns them, as strings (null when empty). */
  properties: Record<string, string | null>
  /** Last modification as ISO time, when the CRM says. */
  updatedAt?: string
  /** The source's own membership id (a Salesforce CampaignMember Id), by which removals are reported. */
  memberKey?: string
}

export interface MemberPage {
  records: CrmRecord[]
  /** Opaque; passing it back resumes right after this page. Undefined on the last page. */
  nextCursor: string | undefined
  /** CRM API calls this page cost (pages plus batch reads), for measured call counts. */
  calls: number
}

export interface StreamOptions {
  /** Properties to read for each member (phones, consent property, template parameters). */
  properties: string[]
  /** Resume after the page that returned this cursor. */
  cursor?: string
}

export interface ConsentWrite {
  recordId: string
  objectType: 'contact' | 'lead'
  optedIn: boolean
  occurredAt: Date
  /** Where the change came from, e.g. "whatsapp_keyword"; written where the CRM keeps a source. */
  source: string
  /** The phone the consent is about (E.164): HubSpot's WhatsApp subscription is keyed by it. */
  phone?: string
}

export type EngagementKind = 'sent' | 'delivered' | 'read' | 'replied' | 'failed' | 'opted_out' | 'opted_in'

export interface EngagementEvent {
  /** Stable id (our message id plus kind): a retried write must not create a second record. */
  id: string
  /** The message this engagement belongs to: one CRM activity per message, updated as it moves. */
  messageId: string
  recordId: string
  objectType: 'contact' | 'lead'
  kind: EngagementKind
  occurredAt: Date
  direction: 'outbound' | 'inbound'
  templateName?: string
  /** The sending number as displayed, e.g. "+1 555-078-3881". */
  businessNumber?: string
  /** The message text as the person saw it or wrote it. */
  text?: string
  errorCode?: number
  errorTitle?: string
}

export interface WriteResult {
  id: string
  ok: boolean
  error?: CrmError
}

/** What changed in a segment's source since a time, where the CRM can say so. */
export interface SegmentChanges {
  /** Members added, or whose mapped properties changed, with those properties. */
  upserted: CrmRecord[]
  /** Membership ids (CrmRecord.memberKey) removed from the source. */
  removedMemberKeys: string[]
  /** The time the answer covers up to: the `since` of the next read. */
  until: string
  calls: number
}

export interface ChangePage {
  records: CrmRecord[]
  /** Resume point for the next read; always set (it is the high-water mark). */
  nextCursor: string
  calls: number
}

/** What `provision` found and did in the installed account. */
export interface ProvisionOutcome {
  /** Created by this call (HubSpot: the property group as `group:<name>`, property names). */
  created: string[]
  /** Already there as the app needs it. */
  present: string[]
  /** There but not as the app needs it (e.g. a property of another type), or missing and not created; never overwritten. */
  problems: Array<{ name: string; message: string }>
  /** True where the CRM needs nothing set up inside the account (Salesforce: the package ships the fields). */
  nothingToDo: boolean
}

export interface CrmAdapter {
  readonly crm: CrmKind
  /**
   * The setup the app needs inside the installed account (HubSpot: its contact properties),
   * idempotent: run on every install. Problems are reported, not repaired; a CrmError when the
   * CRM could not be asked.
   */
  provision(): Promise<ProvisionOutcome>
  /** The segments a user can pick from: HubSpot lists; Salesforce campaigns, list views, reports. */
  listSegmentSources(query?: string): Promise<SegmentSource[]>
  /** One source, or a CrmError with code NOT_FOUND when it no longer exists. */
  getSegmentSource(ref: SegmentSourceRef): Promise<SegmentSource>
  /** A source's members page by page with the named properties, resumable from a cursor. */
  streamSegmentMembers(ref: SegmentSourceRef, options: StreamOptions): AsyncIterable<MemberPage>
  /** Records by id with only the named properties, in the CRM's largest batches. */
  readRecords(ids: Array<{ id: string; objectType: 'contact' | 'lead' }>, properties: string[]): Promise<CrmRecord[]>
  /** Mirrors consent changes onto the CRM records. */
  writeConsent(changes: ConsentWrite[]): Promise<WriteResult[]>
  /** Writes engagement as CRM activity (HubSpot communications/app events, Salesforce Tasks), idempotently. */
  writeEngagement(events: EngagementEvent[]): Promise<WriteResult[]>
  /**
   * Where the CRM can say what changed in a source since `since` (ISO time): those changes;
   * undefined where it cannot (this source type, or `since` too old), and the caller reads it whole.
   */
  readSegmentChanges?(ref: SegmentSourceRef, options: { properties: string[]; since: string }): Promise<SegmentChanges | undefined>
  /** People records changed since the cursor (undefined: from now on), with the named properties. */
  readChangesSince(cursor: string | undefined, properties: string[]): AsyncIterable<ChangePage>
}

/** Where adapters get access tokens; the connector refreshes them single-flight across instances. */
export interface TokenSource {
  /** A token that is valid now (refreshed ahead of expiry). */
  accessToken(): Promise<string>
  /** Called once after the CRM answered 401 with `rejected`; returns a fresh token or throws. */
  refreshAfterRejection(rejected: string): Promise<string>
}

export interface CrmCallObserver {
  /** Every HTTP call with its endpoint label and status (or 'error'), for metrics and call counts. */
  onCall?(call: { crm: CrmKind; endpoint: string; status: number | 'error'; ms: number }): void
  /** Salesforce: API usage from Sforce-Limit-Info after each response. */
  onApiUsage?(usage: { used: number; max: number }): void
}

export type CrmErrorCode =
  | 'RATE_LIMITED' // HubSpot 429 (policyName in details)
  | 'REQUEST_LIMIT_EXCEEDED' // Salesforce daily/concurrent allocation
  | 'DAILY_LIMIT_GUARD' // our own pause near the daily allocation
  | 'UNAUTHORIZED'
  | 'INVALID_GRANT' // refresh token revoked or expired: the installation needs re-authorisation
  | 'MISSING_SCOPES'
  | 'NOT_FOUND'
  | 'VALIDATION_ERROR'
  | 'SERVER_ERROR'
  | 'NETWORK_ERROR'
  | 'UNKNOWN'

export class CrmError extends Error {
  readonly crm: CrmKind
  readonly code: CrmErrorCode
  /** The CRM's own code, e.g. Salesforce errorCode "INVALID_FIELD" or HubSpot category "VALIDATION_ERROR". */
  readonly platformCode: string | undefined
  readonly httpStatus: number | undefined
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined

  constructor(init: { crm: CrmKind; code: CrmErrorCode; message: string; platformCode?: string; httpStatus?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'CrmError'
    this.crm = init.crm
    this.code = init.code
    this.platformCode = init.platformCode
    this.httpStatus = init.httpStatus
    this.retryable = init.retryable ?? ['RATE_LIMITED', 'REQUEST_LIMIT_EXCEEDED', 'SERVER_ERROR', 'NETWORK_ERROR'].includes(init.code)
    this.retryAfterMs = init.retryAfterMs
  }

  toJSON() {
    return { crm: this.crm, code: this.code, platformCode: this.platformCode, httpStatus: this.httpStatus, retryable: this.retryable, message: this.message }
  }
}
