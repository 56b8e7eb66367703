// HubSpot behind the CrmAdapter seam: lists as segment sources, contacts read in batches,
// consent and engagement written back, changes followed through CRM search. Knows nothing of the
// connector: tokens come from a TokenSource, communication ids from a CommunicationStore.
import {
  type ChangePage,
  type ConsentWrite,
  type CrmAdapter,
  type CrmCallObserver,
  CrmError,
  type CrmRecord,
  type EngagementEvent,
  type MemberPage,
  type ProvisionOutcome,
  type SegmentSource,
  type SegmentSourceRef,
  type StreamOptions,
  type TokenSource,
  type WriteResult,
} from '../crm-adapter.ts'
import { apiVersions, type HubSpotApiVersions } from './api-versions.ts'
import { type Clock, systemClock } from './clock.ts'
import { ConsentWriter } from './hubspot-consent.ts'
import { changedContacts, readContacts } from './hubspot-contacts.ts'
import { type AppEventTypes, type CommunicationStore, EngagementWriter } from './hubspot-engagement.ts'
import { HubSpotHttp, type RetryOptions } from './hubspot-http.ts'
import { type AppProperties, provisionProperties } from './hubspot-properties.ts'
import { asArray, asNumber, asRecord, asString, parseTime } from './json.ts'
import { HubSpotRateLimiter, type RateLimitOptions } from './rate-limiter.ts'

/** HubSpot's object type id for contacts. */
const CONTACTS = '0-1'
/** Memberships page maximum (reference hubspot.md §3, MembershipsApi). */
const MEMBERSHIP_PAGE = 250
/**
 * Membership pages read before batch-reading their ids: two pages are 500 ids, five full batch
 * reads of 100, where one page alone (250) would need a third, half-empty read: 1,400 calls for
 * 100,000 members instead of 1,600.
 */
const MEMBERSHIP_PAGES_PER_READ = 2
/** Lists per search page; HubSpot's maximum is unconfirmed, 100 is safely below it. */
const LIST_SEARCH_PAGE = 100

export interface HubSpotAdapterOptions {
  /** `https://api.hubapi.com`, or a simulator. */
  apiBase: string
  tokens: TokenSource
  /** Keeps each WhatsApp message's communication id, so writes are idempotent (see hubspot-engagement.ts). */
  communications: CommunicationStore
  observer?: CrmCallObserver
  /** Limits for this installation, or a limiter shared by every adapter of the same portal. */
  rateLimit?: RateLimitOptions | HubSpotRateLimiter
  retry?: RetryOptions
  /** Per HTTP attempt. Default 30 s. */
  timeoutMs?: number
  // The consent properties are the app's (manifest.json hubspot.properties), provisioned at install.
  /** The contact property mirroring WhatsApp consent ('true' / 'false'). */
  consentProperty: string
  /** When consent last changed (datetime property); null: not written. */
  consentDateProperty: string | null
  /** Where the change came from (text property); null: not written. */
  consentSourceProperty: string | null
  /** The app's property group and contact properties (manifest.json), created by `provision`; absent: nothing to create. */
  appProperties?: AppProperties
  /** Areas called on another date version than the table in api-versions.ts (e.g. one tried on 2026-09). */
  apiVersions?: Partial<HubSpotApiVersions>
  /** Set once HubSpot has approved app events for the app (types from manifest.json); absent: communications only. */
  appEventTypes?: AppEventTypes
  clock?: Clock
}

export class HubSpotAdapter implements CrmAdapter {
  readonly crm = 'hubspot' as const
  readonly #http: HubSpotHttp
  readonly #consent: ConsentWriter
  readonly #engagement: EngagementWriter
  readonly #clock: Clock
  readonly #appProperties: AppProperties | undefined

  constructor(options: HubSpotAdapterOptions) {
    this.#clock = options.clock ?? systemClock
    this.#appProperties = options.appProperties
    const limiter = options.rateLimit instanceof HubSpotRateLimiter ? options.rateLimit : new HubSpotRateLimiter(options.rateLimit, this.#clock)
    this.#http = new HubSpotHttp({
      apiBase: options.apiBase,
      tokens: options.tokens,
      limiter,
      versions: apiVersions(options.apiVersions),
      clock: this.#clock,
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    })
    this.#consent = new ConsentWriter(this.#http, { optIn: options.consentProperty, date: options.consentDateProperty, source: options.consentSourceProperty })
    this.#engagement = new EngagementWriter(this.#http, options.communications, options.appEventTypes)
  }

  /** The app's contact properties (and their group), created where missing; see hubspot-properties.ts. */
  async provision(): Promise<ProvisionOutcome> {
    if (!this.#appProperties) return { created: [], present: [], problems: [], nothingToDo: true }
    return provisionProperties(this.#http, this.#appProperties)
  }

  async listSegmentSources(query?: string): Promise<SegmentSource[]> {
    const sources: SegmentSource[] = []
    let offset = 0
    for (;;) {
      const response = await this.#http.request(this.#http.endpoint('POST', 'lists', '/search'), {
        body: { ...(query ? { query } : {}), offset, count: LIST_SEARCH_PAGE, additionalProperties: ['hs_list_size'] },
      })
      const body = asRecord(response.body)
      for (const raw of asArray(body.lists)) {
        const list = asRecord(raw)
        if (list.objectTypeId === CONTACTS) sources.push(toSource(list))
      }
      const next = asNumber(body.offset)
      if (body.hasMore !== true || next === undefined || next <= offset) return sources
      offset = next
    }
  }

  async getSegmentSource(ref: SegmentSourceRef): Promise<SegmentSource> {
    const response = await this.#http.request(this.#http.endpoint('GET', 'lists', '/{listId}'), { params: { listId: listId(ref) } })
    const body = asRecord(response.body)
    const list = asRecord(body.list ?? body)
    if (list.objectTypeId !== undefined && list.objectTypeId !== CONTACTS) {
      throw new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: `HubSpot list ${ref.id} holds objects of type ${String(list.objectTypeId)}, not contacts` })
    }
    return toSource(list)
  }

  /**
   * Each page: up to two memberships calls (500 ids, in HubSpot's order) and full batch reads of
   * 100. The cursor is the memberships cursor after the page, so a resumed stream repeats nothing.
   */
  async *streamSegmentMembers(ref: SegmentSourceRef, options: StreamOptions): AsyncIterable<MemberPage> {
    const id = listId(ref)
    let after = options.cursor
    do {
      const ids: string[] = []
      let calls = 0
      for (let i = 0; i < MEMBERSHIP_PAGES_PER_READ && (i === 0 || after); i++) {
        const page = await this.#http.request(this.#http.endpoint('GET', 'lists', '/{listId}/memberships'), { params: { listId: id }, query: { limit: MEMBERSHIP_PAGE, after } })
        const body = asRecord(page.body)
        ids.push(...asArray(body.results).flatMap((row) => asString(asRecord(row).recordId) ?? []))
        calls += page.calls
        after = asString(asRecord(asRecord(body.paging).next).after) || undefined
      }
      const read = ids.length > 0 ? await readContacts(this.#http, ids, options.properties) : { records: [], calls: 0 }
      yield { records: read.records, nextCursor: after, calls: calls + read.calls }
    } while (after)
  }

  async readRecords(ids: Array<{ id: string; objectType: 'contact' | 'lead' }>, properties: string[]): Promise<CrmRecord[]> {
    const lead = ids.find((r) => r.objectType !== 'contact')
    if (lead) throw new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: `HubSpot record ${lead.id} must be a contact` })
    return (await readContacts(this.#http, ids.map((r) => r.id), properties)).records
  }

  writeConsent(changes: ConsentWrite[]): Promise<WriteResult[]> {
    return this.#consent.write(changes)
  }

  writeEngagement(events: EngagementEvent[]): Promise<WriteResult[]> {
    return this.#engagement.write(events)
  }

  /** `cursor`: ISO time or epoch ms. Without one, the feed starts now: one empty page with that cursor. */
  async *readChangesSince(cursor: string | undefined, properties: string[]): AsyncIterable<ChangePage> {
    if (cursor === undefined) {
      yield { records: [], nextCursor: new Date(this.#clock.now()).toISOString(), calls: 0 }
      return
    }
    const since = parseTime(cursor)
    if (!Number.isFinite(since)) throw new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: `Change cursor ${cursor} is neither ISO time nor epoch ms` })
    yield* changedContacts(this.#http, since, properties)
  }
}

function listId(ref: SegmentSourceRef): string {
  if (ref.type !== 'hubspot_list') throw new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: `HubSpot has no ${ref.type} segment sources` })
  return ref.id
}

/** A list from search (size in additionalProperties.hs_list_size) or get (size). */
function toSource(list: Record<string, unknown>): SegmentSource {
  const size = asNumber(list.size) ?? asNumber(asRecord(list.additionalProperties).hs_list_size)
  const processingType = asString(list.processingType)
  return {
    type: 'hubspot_list',
    id: asString(list.listId) ?? '',
    name: asString(list.name) ?? '',
    ...(size === undefined ? {} : { size }),
    ...(processingType === undefined ? {} : { processingType }),
  }
}
