import type {
  ChangePage, ConsentWrite, CrmAdapter, CrmCallObserver, CrmRecord, EngagementEvent, MemberPage, SegmentChanges, SegmentSource, SegmentSourceRef,
  ProvisionOutcome, StreamOptions, TokenSource, WriteResult,
} from '../crm-adapter.ts'
import { readChanges } from './salesforce-changes.ts'
import { validationError } from './salesforce-errors.ts'
import { campaignChanges, streamMembers } from './salesforce-members.ts'
import { readPeople } from './salesforce-records.ts'
import { SalesforceRest, type RetryPolicy } from './salesforce-rest.ts'
import { packageFields, personType, requireId, type PackageFields } from './salesforce-soql.ts'
import { getSource, listSources } from './salesforce-sources.ts'
import { writeConsent, writeEngagement } from './salesforce-writes.ts'

// CrmAdapter for one Salesforce org over the REST API. Picking a segment (listSegmentSources,
// getSegmentSource) is interactive; everything else is background work, which stops at the
// daily-limit guard so the org's users keep the last part of its API allocation.

export interface SalesforceAdapterOptions {
  /** `instance_url` from the token response, e.g. https://acme.my.salesforce.com. */
  instanceUrl: string
  /** REST API version, e.g. '62.0' (manifest.json `salesforce.apiVersion`; 46.0 or later: collection upsert needs it). */
  apiVersion: string
  tokens: TokenSource
  observer?: CrmCallObserver
  /** The package's custom fields, unprefixed, as manifest.json declares them. */
  fields: PackageFields
  /** The managed package's namespace prefix: `ns` → `ns__WhatsApp_Opt_In__c`. None by default. */
  namespace?: string
  /** Fraction of the daily API allocation after which background calls fail fast. Default 0.9. */
  dailyLimitGuard?: number
  /** Retries of 5xx, network errors and REQUEST_LIMIT_EXCEEDED. Default 3 retries, 500 ms doubling to 8 s. */
  retry?: Partial<RetryPolicy>
  /** Per HTTP call; a synchronous report run may take up to 2 minutes. Default 130 s. */
  timeoutMs?: number
}

const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 500, maxDelayMs: 8_000 }
/** sObject Collections upsert on an external id exists from v46.0. */
const MIN_API_VERSION = 46

export class SalesforceAdapter implements CrmAdapter {
  readonly crm = 'salesforce'
  readonly fields: PackageFields
  readonly #rest: SalesforceRest

  constructor(options: SalesforceAdapterOptions) {
    const { apiVersion } = options
    const major = /^(\d+)\.0$/.exec(apiVersion)?.[1]
    if (major === undefined || Number(major) < MIN_API_VERSION) throw validationError(`Salesforce API version must look like 62.0 and be ${MIN_API_VERSION}.0 or later`)
    const dailyLimitGuard = options.dailyLimitGuard ?? 0.9
    if (!(dailyLimitGuard > 0 && dailyLimitGuard <= 1)) throw validationError('dailyLimitGuard is a fraction of the daily allocation, above 0 and at most 1')
    this.fields = packageFields(options.fields, options.namespace)
    this.#rest = new SalesforceRest({
      instanceUrl: new URL(options.instanceUrl).origin,
      apiVersion,
      tokens: options.tokens,
      observer: options.observer,
      dailyLimitGuard,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      timeoutMs: options.timeoutMs ?? 130_000,
    })
  }

  /**
   * Nothing to create: the package in ui-extensions/salesforce ships the custom fields and the
   * permission set, deployed before the install. (Whether the installing user can see them shows
   * on the first write, which names the field Salesforce refused.)
   */
  provision(): Promise<ProvisionOutcome> {
    return Promise.resolve({ created: [], present: [], problems: [], nothingToDo: true })
  }

  listSegmentSources(query?: string): Promise<SegmentSource[]> {
    return listSources(this.#rest, query)
  }

  getSegmentSource(ref: SegmentSourceRef): Promise<SegmentSource> {
    return getSource(this.#rest, ref)
  }

  readSegmentChanges(ref: SegmentSourceRef, options: { properties: string[]; since: string }): Promise<SegmentChanges | undefined> {
    return campaignChanges(this.#rest, ref, options)
  }

  streamSegmentMembers(ref: SegmentSourceRef, options: StreamOptions): AsyncIterable<MemberPage> {
    return streamMembers(this.#rest, ref, options)
  }

  async readRecords(ids: Array<{ id: string; objectType: 'contact' | 'lead' }>, properties: string[]): Promise<CrmRecord[]> {
    const records: CrmRecord[] = []
    for (const objectType of ['contact', 'lead'] as const) {
      const wanted = [...new Set(ids.filter((r) => r.objectType === objectType).map((r) => requireId(r.id, 'Record id')))]
      if (wanted.length > 0) records.push(...(await readPeople(this.#rest, personType(objectType), wanted, properties, 'background')).records)
    }
    return records
  }

  writeConsent(changes: ConsentWrite[]): Promise<WriteResult[]> {
    return writeConsent(this.#rest, this.fields, changes)
  }

  writeEngagement(events: EngagementEvent[]): Promise<WriteResult[]> {
    return writeEngagement(this.#rest, this.fields, events)
  }

  readChangesSince(cursor: string | undefined, properties: string[]): AsyncIterable<ChangePage> {
    return readChanges(this.#rest, cursor, properties)
  }
}
