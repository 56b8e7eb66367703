// The outbox's decisions as pure functions: when a batch goes (or lingers for more writes), which
// write of a record is sent (coalescing), and what happens to a write the CRM did not take (retry,
// wait or dead letter).

/**
 * How long a part-full batch may wait for more writes. A burst of signals (1,000 STOPs after a
 * campaign) reaches the outbox over a second or two; sending whatever is due at each look would
 * spend a CRM call on every few dozen writes of it, and the calls are the scarce resource (each
 * CRM's limit is per call, a batch holds 100 or 200 records). Half a second fills a batch as long
 * as writes arrive faster than batch ÷ 0.5 s (200/s for HubSpot, 400/s for Salesforce), and costs a
 * lone write at most that half second, well inside the 5 s a STOP may take to reach the CRM.
 */
export const WRITE_LINGER_MS = 500

export interface DueFacts {
  /** Records with a write due now (each is one slot of a batch). */
  due: number
  /** The CRM's batch size (records per write call). */
  batchSize: number
  /** How long ago the oldest due write was enqueued. */
  oldestAgeMs: number
}

export type BatchDecision = { action: 'idle' } | { action: 'send' } | { action: 'wait'; ms: number }

/**
 * Whether to send a batch now: a full batch goes at once, a part-full one once its oldest write has
 * waited `lingerMs` (never later: the wait is what is left of the linger), nothing when none is due.
 */
export function decideBatch(f: DueFacts, lingerMs: number = WRITE_LINGER_MS): BatchDecision {
  if (f.due <= 0) return { action: 'idle' }
  if (f.due >= f.batchSize || f.oldestAgeMs >= lingerMs) return { action: 'send' }
  return { action: 'wait', ms: Math.ceil(lingerMs - Math.max(0, f.oldestAgeMs)) }
}

export interface PlannedWrite {
  id: number
  objectType: string
  recordId: string
  occurredAt: Date
  /** The source time of the newest write already applied to this record. */
  appliedAt: Date | null
}

export interface RecordPlan<W> {
  /** The write to send: the newest by source time; undefined when the CRM already holds a newer one. */
  send: W | undefined
  /** Every claimed write of the record, settled by the outcome of `send`. */
  ids: number[]
}

/**
 * Groups claimed writes by record and keeps, per record, the newest by source time (`wins`
 * breaks a tie, e.g. an opt-out over an opt-in; else the later write). Only the record's latest
 * state need reach the CRM; a write older than one already applied is not sent at all.
 */
export function planRecords<W extends PlannedWrite>(writes: readonly W[], wins: (a: W, b: W) => boolean = () => false): Array<RecordPlan<W>> {
  const byRecord = new Map<string, { send: W; ids: number[] }>()
  for (const w of [...writes].sort((a, b) => a.id - b.id)) {
    const key = `${w.objectType}:${w.recordId}`
    const group = byRecord.get(key)
    if (!group) {
      byRecord.set(key, { send: w, ids: [w.id] })
      continue
    }
    group.ids.push(w.id)
    const t = w.occurredAt.getTime() - group.send.occurredAt.getTime()
    if (t > 0 || (t === 0 && !wins(group.send, w))) group.send = w
  }
  return [...byRecord.values()].map(({ send, ids }) => ({
    send: send.appliedAt && send.occurredAt < send.appliedAt ? undefined : send,
    ids,
  }))
}

export interface FailureFacts {
  /** A CRM error's code, or INSTALLATION_INACTIVE, or UNKNOWN for anything else. */
  code: string
  retryable: boolean
  retryAfterMs?: number
  /** Attempts so far, before this one. */
  attempts: number
  /** When the current run of retryable failures began (null: this is its first). */
  failingSince: Date | null
}

export type FailureDecision =
  | { action: 'retry'; delayMs: number; countAttempt: boolean }
  | { action: 'dead_letter' }

export interface BackoffPolicy {
  baseMs: number
  maxMs: number
  /** Retryable failures are retried at least this long before the write is dead-lettered. */
  retryForMs: number
  /** How long writes of an installation that cannot call its CRM (inactive, needs re-authorisation) wait before looking again. */
  inactiveWaitMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 10 * 60_000, retryForMs: 48 * 3600_000, inactiveWaitMs: 5 * 60_000 }

/** Codes that mean the installation cannot call its CRM now: its writes wait, however long, and are not lost. */
const INSTALLATION_CODES = new Set(['INSTALLATION_INACTIVE', 'INVALID_GRANT', 'UNAUTHORIZED'])

/**
 * Exponential backoff with jitter (half to all of base × 2^attempts, capped), never sooner than
 * the CRM's Retry-After; a retryable failure dead-letters only after `retryForMs` of failing,
 * so a day-long outage delays writes without losing them.
 */
export function decideFailure(f: FailureFacts, now: Date, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): FailureDecision {
  if (INSTALLATION_CODES.has(f.code)) return { action: 'retry', delayMs: policy.inactiveWaitMs, countAttempt: false }
  if (!f.retryable) return { action: 'dead_letter' }
  if (f.failingSince && now.getTime() - f.failingSince.getTime() >= policy.retryForMs) return { action: 'dead_letter' }
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(f.attempts, 30))
  const jittered = ceiling * (0.5 + random() / 2)
  return { action: 'retry', delayMs: Math.round(Math.max(jittered, f.retryAfterMs ?? 0)), countAttempt: true }
}
