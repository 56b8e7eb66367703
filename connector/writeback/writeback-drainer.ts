import type { Logger } from 'pino'
import { CrmError, type CrmAdapter, type WriteResult } from '../../crm-adapters/crm-adapter.ts'
import type { CrmProviders } from '../../crm-adapters/registry.ts'
import { isConnectionError, type Database, type Queryable } from '../db/database.ts'
import type { CrmAdapters } from '../installations/crm-adapters.ts'
import { installationsByIds, type Installation } from '../installations/installation-repository.ts'
import { InstallationInactiveError } from '../installations/token-manager.ts'
import { PollingWorker } from '../jobs/polling-loop.ts'
import { CONSENT_KIND, consentWins, toConsentWrite, withCurrentConsent } from './consent-writebacks.ts'
import { DEFAULT_BACKOFF, WRITE_LINGER_MS, decideBatch, decideFailure, planRecords, type BackoffPolicy, type BatchDecision } from './writeback-plan.ts'
import {
  claimWritebacks, dueWritebacks, markWritebacksDone, rewriteWritebacks, markWritebacksFailed, markWritebacksRetry, returnCallBudget, takeCallBudget,
  type ClaimedWriteback, type DueWritebacks, type Writeback,
} from './writeback-repository.ts'

// Drains the outbox. Per installation, each batch call first takes a call from the account's
// budget in the database, shared by every instance; then it leases the due writes of up to a
// batch of records (FOR UPDATE SKIP LOCKED on each record's oldest pending write, so instances
// never take the same record and a record's writes go in order), sends each record's latest
// state in one call and settles every claimed write from the answer. CRM calls run outside any
// transaction; a lease that outlives a crashed instance expires and the writes are taken again.
// A part-full batch lingers (WRITE_LINGER_MS, counted from its oldest write's enqueueing) for more
// writes to fill it; the drainer wakes itself when the linger ends, so no write waits longer.

/** How one kind of write reaches the CRM; the engagement write-back adds its own. */
export interface WritebackSender {
  kind: string
  send(adapter: CrmAdapter, writes: Writeback[]): Promise<WriteResult[]>
  /** At equal source times, whether a wins over b. */
  wins?(a: Writeback, b: Writeback): boolean
  /**
   * What each claimed write should say now, read from the source of truth when the batch goes
   * (null: nothing to write); without it a write says what it was enqueued with.
   */
  current?<W extends Writeback>(db: Queryable, installationId: string, writes: readonly W[]): Promise<Array<W | null>>
}

export const consentSender: WritebackSender = {
  kind: CONSENT_KIND,
  send: (adapter, writes) => adapter.writeConsent(writes.map(toConsentWrite)),
  wins: consentWins,
  current: withCurrentConsent,
}

export interface WritebackDrainerOptions {
  db: Database
  crm: CrmAdapters
  providers: CrmProviders
  log: Logger
  senders?: WritebackSender[]
  pollMs?: number
  /** How long a part-full batch waits for more writes (0: send whatever is due at once). */
  lingerMs?: number
  /** Longer than a batch call can take, retries inside the adapter included. */
  leaseSeconds?: number
  backoff?: BackoffPolicy
  onOutcome?: (crm: string, outcome: 'done' | 'retry' | 'failed' | 'superseded', count: number) => void
}

type Failure = { code: string; message: string; retryable: boolean; retryAfterMs?: number }

function failureOf(error: unknown): Failure {
  if (error instanceof CrmError) return { code: error.code, message: error.message, retryable: error.retryable, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) }
  if (error instanceof InstallationInactiveError) return { code: error.code, message: error.message, retryable: false }
  // Anything else (a network failure outside the CRM client, a bug) is retried, never dropped.
  return { code: 'UNKNOWN', message: String((error as Error)?.message ?? error), retryable: true }
}

export class WritebackDrainer extends PollingWorker {
  readonly #o: Required<Omit<WritebackDrainerOptions, 'onOutcome'>> & Pick<WritebackDrainerOptions, 'onOutcome'>
  #wakeTimer: NodeJS.Timeout | undefined
  #wakeAt: number | undefined

  constructor(options: WritebackDrainerOptions) {
    super(options.pollMs ?? 500)
    this.#o = { senders: [consentSender], pollMs: 500, lingerMs: WRITE_LINGER_MS, leaseSeconds: 300, backoff: DEFAULT_BACKOFF, ...options }
  }

  override async stop(): Promise<void> {
    clearTimeout(this.#wakeTimer)
    this.#wakeAt = undefined
    await super.stop()
  }

  /** A pass when a lingering batch's time is up (the earliest of them), rather than at the next poll. */
  #wakeIn(ms: number): void {
    const at = Date.now() + ms
    if (this.#wakeAt !== undefined && this.#wakeAt <= at) return
    clearTimeout(this.#wakeTimer)
    this.#wakeAt = at
    this.#wakeTimer = setTimeout(() => {
      this.#wakeAt = undefined
      this.nudge()
    }, ms)
    this.#wakeTimer.unref()
  }

  protected async pass(): Promise<void> {
    try {
      await this.drainOnce()
    } catch (error) {
      if (isConnectionError(error)) this.#o.log.warn('write-back paused: database unreachable')
      else this.#o.log.error({ err: error }, 'write-back pass failed')
    }
  }

  /** Drains what is due and within budget; returns how many writes it settled. */
  async drainOnce(): Promise<number> {
    let settled = 0
    let wakeMs: number | undefined
    for (const sender of this.#o.senders) {
      const due = new Map((await dueWritebacks(this.#o.db, { kind: sender.kind })).map((d) => [d.installationId, d]))
      const installations = await installationsByIds(this.#o.db, [...due.keys()])
      // Installations are independent accounts with budgets of their own: drain them side by side.
      const outcomes = await Promise.all(installations.map((i) => this.#drainInstallation(i, sender, due.get(i.id))))
      for (const o of outcomes) {
        settled += o.settled
        if (o.waitMs !== undefined) wakeMs = Math.min(wakeMs ?? Infinity, o.waitMs)
      }
    }
    if (wakeMs !== undefined && !this.stopped) this.#wakeIn(wakeMs)
    return settled
  }

  async #drainInstallation(installation: Installation, sender: WritebackSender, first: DueWritebacks | undefined): Promise<{ settled: number; waitMs?: number }> {
    const { db, lingerMs, leaseSeconds } = this.#o
    const provider = this.#o.providers.get(installation.crm)
    let settled = 0
    let due = first
    // The budget ends the loop: once its burst is spent, the next poll continues at its refill rate.
    for (;;) {
      const decision: BatchDecision = due ? decideBatch({ due: due.due, batchSize: provider.writeBatchSize, oldestAgeMs: due.oldestAgeMs }, lingerMs) : { action: 'idle' }
      if (decision.action === 'idle') break
      if (decision.action === 'wait') return { settled, waitMs: decision.ms }
      if (!(await takeCallBudget(db, installation.id, provider.writeBudget))) break
      const claimed = await claimWritebacks(db, { installationId: installation.id, kind: sender.kind, records: provider.writeBatchSize, leaseSeconds })
      if (!claimed.length) {
        await returnCallBudget(db, installation.id)
        break
      }
      settled += await this.#apply(installation, sender, claimed)
      due = (await dueWritebacks(db, { kind: sender.kind, installationId: installation.id }))[0]
    }
    return { settled }
  }

  async #apply(installation: Installation, sender: WritebackSender, claimed: ClaimedWriteback[]): Promise<number> {
    const { db, log, onOutcome } = this.#o
    // Each write says what its record should hold now, not what it was enqueued with.
    const resolved = sender.current ? await sender.current(db, installation.id, claimed) : claimed
    const current = resolved.filter((w): w is ClaimedWriteback => w !== null)
    const plans = planRecords(current, sender.wins)
    const superseded = [...plans.filter((p) => !p.send).flatMap((p) => p.ids), ...claimed.filter((_, i) => resolved[i] === null).map((w) => w.id)]
    await markWritebacksDone(db, superseded)
    if (superseded.length) onOutcome?.(installation.crm, 'superseded', superseded.length)
    const sending = plans.filter((p): p is { send: ClaimedWriteback; ids: number[] } => p.send !== undefined)
    if (!sending.length) return claimed.length
    // The outbox shows what is written: a write whose content changed since it was enqueued says so.
    const enqueued = new Map(claimed.map((w) => [w.id, w]))
    await rewriteWritebacks(db, sending.map((p) => p.send).filter((w) => {
      const before = enqueued.get(w.id)!
      return before.occurredAt.getTime() !== w.occurredAt.getTime() || JSON.stringify(before.payload) !== JSON.stringify(w.payload)
    }))

    let results: Array<WriteResult | undefined>
    try {
      results = await sender.send(this.#o.crm.for(installation), sending.map((p) => p.send))
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      results = sending.map((p) => ({ id: p.send.recordId, ok: false, error: failure as CrmError }))
    }

    const done: number[] = []
    const now = new Date()
    for (const [i, plan] of sending.entries()) {
      const result = results[i]
      if (result?.ok) {
        done.push(...plan.ids)
        continue
      }
      const failure = failureOf(result?.error ?? new Error('the CRM returned no result for this record'))
      const decision = decideFailure({ ...failure, attempts: plan.send.attempts, failingSince: plan.send.failingSince }, now, this.#o.backoff)
      if (decision.action === 'dead_letter') {
        await markWritebacksFailed(db, plan.ids, failure)
        onOutcome?.(installation.crm, 'failed', plan.ids.length)
        log.warn({ installationId: installation.id, recordId: plan.send.recordId, code: failure.code }, 'write-back refused for good; dead-lettered')
      } else {
        await markWritebacksRetry(db, plan.ids, { delayMs: decision.delayMs, code: failure.code, message: failure.message, countAttempt: decision.countAttempt })
        onOutcome?.(installation.crm, 'retry', plan.ids.length)
      }
    }
    await markWritebacksDone(db, done)
    if (done.length) onOutcome?.(installation.crm, 'done', done.length)
    return claimed.length
  }
}
