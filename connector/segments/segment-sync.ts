import type { CountryCode } from 'libphonenumber-js'
import type { Logger } from 'pino'
import { CrmError, type CrmRecord, type MemberPage, type SegmentChanges } from '../../crm-adapters/crm-adapter.ts'
import { consentStatusesOfKeys, recordConsentEvents, type ConsentState } from '../consent/consent-ledger.ts'
import { upsertContacts } from '../contacts/contact-repository.ts'
import { upsertCrmRecords, type PhoneStatus } from '../contacts/crm-record-repository.ts'
import type { Database, Transaction } from '../db/database.ts'
import type { CrmAdapters } from '../installations/crm-adapters.ts'
import { findInstallation } from '../installations/installation-repository.ts'
import { normalizeCrmPhone } from '../phones/crm-phone.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'
import { consentFromCrmValue } from './consent-value.ts'
import { applyMembershipDiff, countMembers, forgetSeen, joiningMembers, noteSeen, removeMembersByKey, upsertMembers, type JoiningMember, type MemberRef } from './membership-repository.ts'
import {
  clearSyncError, createSync, failSync, findSync, finishFullSync, finishIncrementalSync, interruptSync, lockSegment, markSegmentSyncing,
  recordSyncPage, syncProgress, type Segment, type SyncView,
} from './segment-repository.ts'
import { InstallationInactiveError } from '../installations/token-manager.ts'

// Segment sync: streams the CRM source page by page through the installation's CrmAdapter, keeps
// the records and their WhatsApp recipients, notes what it has seen, and only at the end swaps the
// membership in one transaction. Memory holds one page. Each page commits with the sync's cursor,
// so a sync cut short (crash, rate-limit storm) resumes where it stopped; a sync that fails keeps
// the last good membership. A segment runs one sync at a time across every connector instance:
// the claim is a row update guarded by a heartbeat.

/** A running sync whose heartbeat is older than this is taken to be dead, and is resumed. */
export const HEARTBEAT_TIMEOUT_MS = 60_000

/** Joining members recorded as opted in per statement, for a list that is the record of opt-in. */
const LIST_OPT_IN_PAGE = 1000

export class SyncAlreadyRunningError extends Error {
  readonly code = 'SYNC_RUNNING'
  readonly syncId: string
  constructor(syncId: string) {
    super(`A sync of this segment is already running (${syncId})`)
    this.name = 'SyncAlreadyRunningError'
    this.syncId = syncId
  }
}

export class SegmentNotFoundError extends Error {
  readonly code = 'NOT_FOUND'
  constructor(id: string) {
    super(`Segment ${id} does not exist`)
    this.name = 'SegmentNotFoundError'
  }
}

export interface SegmentSyncerDeps {
  db: Database
  crm: CrmAdapters
  log: Logger
}

interface Claim {
  segment: Segment
  syncId: string
  cursor: string | undefined
  resumed: boolean
  /** Read the whole source even where the CRM could say what changed. */
  full: boolean
}

export class SegmentSyncer {
  readonly #d: SegmentSyncerDeps
  readonly #running = new Set<Promise<unknown>>()

  constructor(deps: SegmentSyncerDeps) {
    this.#d = deps
  }

  /** Claims the segment and starts its sync in the background; resolves with the sync id. */
  async start(segmentId: string, trigger: 'manual' | 'schedule' | 'created', options: { full?: boolean } = {}): Promise<{ syncId: string; done: Promise<SyncView> }> {
    const claim = { ...(await this.#claim(segmentId, trigger)), full: options.full === true }
    const done = this.#run(claim)
    this.#running.add(done)
    void done.finally(() => this.#running.delete(done)).catch(() => {})
    return { syncId: claim.syncId, done }
  }

  /** Waits for the syncs this instance is running (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running])
  }

  async #claim(segmentId: string, trigger: 'manual' | 'schedule' | 'created'): Promise<Omit<Claim, 'full'>> {
    return this.#d.db.transaction(async (tx) => {
      const segment = await lockSegment(tx, segmentId)
      if (!segment) throw new SegmentNotFoundError(segmentId)
      if (segment.runningSyncId && segment.heartbeatAt && Date.now() - segment.heartbeatAt.getTime() < HEARTBEAT_TIMEOUT_MS) {
        throw new SyncAlreadyRunningError(segment.runningSyncId)
      }
      let syncId: string
      let cursor: string | undefined
      let resumed = false
      if (segment.runningSyncId) {
        // The previous sync stopped without finishing (its instance died or it was interrupted): go on from its cursor.
        const prior = await syncProgress(tx, segment.runningSyncId)
        if (prior?.status === 'running') {
          syncId = segment.runningSyncId
          cursor = prior.cursor ?? undefined
          resumed = true
          await clearSyncError(tx, syncId)
        }
      }
      if (!resumed) syncId = await createSync(tx, segmentId, trigger)
      await markSegmentSyncing(tx, segmentId, syncId!)
      return { segment, syncId: syncId!, cursor, resumed }
    })
  }

  async #run(claim: Claim): Promise<SyncView> {
    const { segment, syncId } = claim
    const log = this.#d.log.child({ segmentId: segment.id, syncId })
    try {
      const installation = await findInstallation(this.#d.db, segment.installationId)
      if (!installation || installation.status !== 'active') throw new InstallationInactiveError(installation?.status ?? 'gone')
      const adapter = this.#d.crm.for(installation)
      const properties = [...new Set([...segment.phoneProperties, ...(segment.consentProperty ? [segment.consentProperty] : []), ...segment.copyProperties])]
      // Where the CRM can say what changed since the last sync, read only that; else read it whole.
      const changes = !claim.resumed && !claim.full && segment.changeCursor && adapter.readSegmentChanges
        ? await adapter.readSegmentChanges(segment.source, { properties, since: segment.changeCursor })
        : undefined
      if (changes) {
        await this.#d.db.transaction((tx) => this.#applyChanges(tx, segment, syncId, changes))
        log.info({ upserted: changes.upserted.length, removed: changes.removedMemberKeys.length }, 'incremental segment sync succeeded')
        return (await findSync(this.#d.db, syncId))!
      }
      if (claim.resumed) log.info({ cursor: Boolean(claim.cursor) }, 'resuming an interrupted segment sync')
      for await (const page of adapter.streamSegmentMembers(segment.source, { properties, cursor: claim.cursor })) {
        await this.#d.db.transaction((tx) => this.#applyPage(tx, segment, syncId, page))
      }
      await this.#d.db.transaction(async (tx) => {
        await this.#recordListOptIns(tx, segment, syncId)
        const diff = await applyMembershipDiff(tx, segment.id, syncId)
        // Changes from the moment this read began are the next incremental sync's to find.
        await finishFullSync(tx, segment.id, syncId, diff)
      })
      log.info('segment sync succeeded')
    } catch (error) {
      await this.#fail(segment, syncId, error, log)
    }
    return (await findSync(this.#d.db, syncId))!
  }

  async #applyPage(tx: Transaction, segment: Segment, syncId: string, page: MemberPage): Promise<void> {
    const prepared = await this.#storeRecords(tx, segment, syncId, page.records)
    await noteSeen(tx, syncId, prepared.map(memberRef))
    await recordSyncPage(tx, segment.id, syncId, { cursor: page.nextCursor ?? null, calls: page.calls, invalid: prepared.filter((p) => p.phoneStatus !== 'ok').length })
  }

  /** Keeps the records, their recipients and what their consent property says. */
  async #storeRecords(tx: Transaction, segment: Segment, syncId: string, records: CrmRecord[]): Promise<Prepared[]> {
    const prepared = records.map((r) => prepare(r, segment))
    // Several records may share a number: one recipient per match key (the page's last record wins its properties).
    const recipients = new Map<string, (typeof prepared)[number]>()
    for (const p of prepared) if (p.key) recipients.set(p.key, p)
    const contactIds = await upsertContacts(tx, segment.installationId, [...recipients.values()].map((p) => ({
      phone: p.e164!, matchKey: p.key!, country: p.country ?? null, properties: p.copied,
    })))
    await upsertCrmRecords(tx, segment.installationId, prepared.map((p) => ({
      objectType: p.record.objectType,
      recordId: p.record.id,
      contactId: p.key ? contactIds.get(p.key) ?? null : null,
      phoneStatus: p.phoneStatus,
      consentValue: p.consentValue,
      properties: p.copied,
      crmUpdatedAt: p.record.updatedAt ?? null,
    })))
    await this.#mirrorCrmConsent(tx, segment, syncId, prepared)
    return prepared
  }

  /**
   * The CRM's opt-in property is read on every sync; a value that differs from the connector's
   * current state becomes a consent event from the CRM, with the property as its evidence.
   */
  async #mirrorCrmConsent(tx: Transaction, segment: Segment, syncId: string, prepared: Prepared[]): Promise<void> {
    if (!segment.consentProperty) return
    const withValue = prepared.filter((p) => p.key && p.crmConsent)
    if (!withValue.length) return
    const current = await consentStatusesOfKeys(tx, withValue.map((p) => p.key!), segment.installationId)
    // One event per recipient and page: the most recently modified record speaks for the number.
    const latest = new Map<string, Prepared>()
    for (const p of withValue) {
      const seen = latest.get(p.key!)
      if (!seen || (p.record.updatedAt ?? '') >= (seen.record.updatedAt ?? '')) latest.set(p.key!, p)
    }
    const events = [...latest.values()].filter((p) => current.get(p.key!) !== p.crmConsent).map((p) => {
      const occurredAt = p.record.updatedAt ? new Date(p.record.updatedAt) : new Date()
      return {
        phone: p.e164!,
        installationId: segment.installationId,
        state: p.crmConsent!,
        source: `crm_${segment.source.type.split('_')[0]}`,
        evidence: { property: segment.consentProperty, value: p.consentValue, objectType: p.record.objectType, recordId: p.record.id, segmentId: segment.id, syncId },
        occurredAt,
        dedupeKey: `crm:${segment.installationId}:${p.record.objectType}:${p.record.id}:${p.consentValue}:${occurredAt.toISOString()}`,
      }
    })
    await recordConsentEvents(tx, events)
  }

  /**
   * A list that is itself the record of opt-in: each record joining the segment in this sync is an
   * opt-in with the segment's evidence, at the time the sync began (when the list was read; an
   * opt-out after that still wins). A member already in the segment is not recorded again. Leaving
   * the list records nothing: being taken off a list is not the person withdrawing consent (lists
   * are pruned, re-segmented, replaced), so only a real opt-out signal ends an opt-in. A full sync
   * runs this before its diff, page by page over the joiners; an incremental one passes its joiners.
   */
  async #recordListOptIns(tx: Transaction, segment: Segment, syncId: string, joined?: JoiningMember[]): Promise<void> {
    if (!segment.listIsOptIn) return
    const { evidence } = segment.listIsOptIn
    const occurredAt = new Date((await findSync(tx, syncId))!.startedAt)
    const record = (page: JoiningMember[]) => recordConsentEvents(tx, page.map((m) => ({
      phone: m.phone,
      installationId: segment.installationId,
      state: 'opted_in' as const,
      source: 'crm_list',
      evidence: { note: evidence, segmentId: segment.id, list: { type: segment.source.type, id: segment.source.id }, objectType: m.objectType, recordId: m.recordId, syncId },
      occurredAt,
      dedupeKey: `crm-list:${segment.id}:${m.objectType}:${m.recordId}:${syncId}`,
    })))
    if (joined) {
      await record(joined)
      return
    }
    let after: JoiningMember | undefined
    for (;;) {
      const page = await joiningMembers(tx, segment, syncId, after, LIST_OPT_IN_PAGE)
      await record(page)
      if (page.length < LIST_OPT_IN_PAGE) return
      after = page[page.length - 1]
    }
  }

  /** Applies an incremental read: upserted members kept and added, removed ones dropped, in one transaction. */
  async #applyChanges(tx: Transaction, segment: Segment, syncId: string, changes: SegmentChanges): Promise<void> {
    const prepared = await this.#storeRecords(tx, segment, syncId, changes.upserted)
    const joined = await upsertMembers(tx, segment.id, prepared.map(memberRef))
    await this.#recordListOptIns(tx, segment, syncId, prepared
      .filter((p) => p.e164 && joined.has(`${p.record.objectType}:${p.record.id}`))
      .map((p) => ({ objectType: p.record.objectType, recordId: p.record.id, phone: p.e164! })))
    const added = joined.size
    const removed = await removeMembersByKey(tx, segment.id, changes.removedMemberKeys)
    const members = await countMembers(tx, segment.id)
    await finishIncrementalSync(tx, segment.id, syncId, {
      added, removed, unchanged: members - added, calls: changes.calls, invalid: prepared.filter((p) => p.phoneStatus !== 'ok').length, until: changes.until,
    })
  }

  async #fail(segment: Segment, syncId: string, error: unknown, log: Logger): Promise<void> {
    const crmError = error instanceof CrmError ? error : undefined
    const message = crmError
      ? describe(crmError)
      : error instanceof InstallationInactiveError
        ? `The installation is ${error.status}: reinstall the app to sync this segment.`
        : `Sync failed: ${(error as Error)?.message ?? String(error)}`
    const code = crmError?.code ?? (error instanceof InstallationInactiveError ? error.code : 'INTERNAL')
    // A retryable interruption (rate limits, CRM outage) stays resumable from its cursor; anything else ends the sync.
    const resumable = crmError?.retryable === true
    try {
      await this.#d.db.transaction(async (tx) => {
        if (resumable) {
          await interruptSync(tx, segment.id, syncId, { code: crmError!.code, message: `${message} The next sync resumes from where this one stopped.` })
        } else {
          await failSync(tx, segment.id, syncId, { code, message })
          await forgetSeen(tx, syncId)
        }
      })
    } catch (recordError) {
      log.error({ err: recordError }, 'could not record the segment sync failure')
    }
    log.warn({ err: error, resumable }, 'segment sync failed; the last good membership is kept')
  }
}

interface Prepared {
  record: CrmRecord
  e164: string | undefined
  key: string | undefined
  country: string | undefined
  phoneStatus: PhoneStatus
  consentValue: string | null
  crmConsent: ConsentState | undefined
  copied: Record<string, string | null>
}

function memberRef(p: Prepared): MemberRef {
  return { objectType: p.record.objectType, recordId: p.record.id, memberKey: p.record.memberKey ?? null }
}

/** The first phone property holding a WhatsApp-able number wins; otherwise the most telling reason. */
function prepare(record: CrmRecord, segment: Segment): Prepared {
  let status: Prepared['phoneStatus'] = 'missing'
  let found: { e164: string; country: string | undefined } | undefined
  for (const property of segment.phoneProperties) {
    const n = normalizeCrmPhone(record.properties[property], segment.defaultCountry as CountryCode)
    if (n.ok) {
      found = { e164: n.e164, country: n.country }
      break
    }
    if (n.reason === 'fixed_line' || (n.reason === 'invalid' && status === 'missing')) status = n.reason
  }
  const consentValue = segment.consentProperty ? record.properties[segment.consentProperty] ?? null : null
  const copied: Record<string, string | null> = {}
  for (const p of segment.copyProperties) copied[p] = record.properties[p] ?? null
  return {
    record,
    e164: found?.e164,
    key: found ? whatsappMatchKey(found.e164) : undefined,
    country: found?.country,
    phoneStatus: found ? 'ok' : status,
    consentValue,
    crmConsent: consentFromCrmValue(consentValue),
    copied,
  }
}

function describe(error: CrmError): string {
  switch (error.code) {
    case 'NOT_FOUND':
      return 'The source no longer exists in the CRM (deleted, or no longer visible to the installing user).'
    case 'MISSING_SCOPES':
      return 'The installation lacks a permission this source needs; reinstall the app and grant it.'
    case 'INVALID_GRANT':
    case 'UNAUTHORIZED':
      return 'The installation needs re-authorisation: reinstall the app.'
    case 'RATE_LIMITED':
    case 'REQUEST_LIMIT_EXCEEDED':
    case 'DAILY_LIMIT_GUARD':
      return `The CRM's API limit stopped the sync (${error.platformCode ?? error.code}).`
    default:
      return `The CRM answered: ${error.message}`
  }
}

