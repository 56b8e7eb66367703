import { describe, expect, it } from 'vitest'
import { DEFAULT_BACKOFF, WRITE_LINGER_MS, decideBatch, decideFailure, planRecords } from '../../connector/writeback/writeback-plan.ts'

const w = (id: number, recordId: string, at: number, extra: { appliedAt?: number; out?: boolean } = {}) => ({
  id, objectType: 'contact', recordId, occurredAt: new Date(at), appliedAt: extra.appliedAt === undefined ? null : new Date(extra.appliedAt), out: extra.out ?? false,
})

describe('planRecords', () => {
  it('sends one write per record, the newest by source time, and settles every claimed write with it', () => {
    const plans = planRecords([w(3, 'a', 300), w(1, 'a', 100), w(2, 'b', 50), w(4, 'a', 200)])
    expect(plans).toEqual([
      { send: expect.objectContaining({ id: 3 }), ids: [1, 3, 4] },
      { send: expect.objectContaining({ id: 2 }), ids: [2] },
    ])
  })

  it('breaks a tie of source times with the kind’s rule, else by the later write', () => {
    const optOutWins = (a: { out: boolean }, b: { out: boolean }) => a.out && !b.out
    expect(planRecords([w(1, 'a', 100, { out: true }), w(2, 'a', 100)], optOutWins)[0]!.send?.id).toBe(1)
    expect(planRecords([w(1, 'a', 100), w(2, 'a', 100)], optOutWins)[0]!.send?.id).toBe(2)
  })

  it('sends nothing when the record already holds a newer write', () => {
    expect(planRecords([w(5, 'a', 100, { appliedAt: 200 })])).toEqual([{ send: undefined, ids: [5] }])
    expect(planRecords([w(5, 'a', 200, { appliedAt: 200 })])[0]!.send?.id).toBe(5)
  })
})

describe('decideBatch', () => {
  it('sends a full batch at once, however young its writes', () => {
    expect(decideBatch({ due: 100, batchSize: 100, oldestAgeMs: 0 })).toEqual({ action: 'send' })
    expect(decideBatch({ due: 250, batchSize: 200, oldestAgeMs: 5 })).toEqual({ action: 'send' })
  })

  it('lets a part-full batch wait for what is left of the linger, counted from its oldest write', () => {
    expect(decideBatch({ due: 40, batchSize: 100, oldestAgeMs: 0 }, 500)).toEqual({ action: 'wait', ms: 500 })
    expect(decideBatch({ due: 99, batchSize: 100, oldestAgeMs: 120.4 }, 500)).toEqual({ action: 'wait', ms: 380 })
    // A clock a little ahead (the write's time is the database's) never makes the wait longer than the linger.
    expect(decideBatch({ due: 1, batchSize: 100, oldestAgeMs: -30 }, 500)).toEqual({ action: 'wait', ms: 500 })
  })

  it('sends a part-full batch once its oldest write has waited the linger, never later', () => {
    expect(decideBatch({ due: 1, batchSize: 100, oldestAgeMs: 500 }, 500)).toEqual({ action: 'send' })
    expect(decideBatch({ due: 3, batchSize: 200, oldestAgeMs: 3_600_000 }, 500)).toEqual({ action: 'send' })
    expect(decideBatch({ due: 3, batchSize: 200, oldestAgeMs: 0 }, 0)).toEqual({ action: 'send' })
  })

  it('does nothing when nothing is due; the default linger is short', () => {
    expect(decideBatch({ due: 0, batchSize: 100, oldestAgeMs: 10_000 })).toEqual({ action: 'idle' })
    expect(WRITE_LINGER_MS).toBeGreaterThanOrEqual(250)
    expect(WRITE_LINGER_MS).toBeLessThanOrEqual(500)
  })
})

describe('decideFailure', () => {
  const now = new Date('2026-06-01T12:00:00Z')
  const half = () => 0.5

  it('backs off exponentially with jitter, capped, never sooner than Retry-After', () => {
    const delay = (attempts: number, retryAfterMs?: number) => {
      const d = decideFailure({ code: 'RATE_LIMITED', retryable: true, attempts, failingSince: null, ...(retryAfterMs ? { retryAfterMs } : {}) }, now, DEFAULT_BACKOFF, half)
      return d.action === 'retry' ? d.delayMs : -1
    }
    expect(delay(0)).toBe(1500)
    expect(delay(3)).toBe(12_000)
    expect(delay(40)).toBe(0.75 * DEFAULT_BACKOFF.maxMs)
    expect(delay(0, 10_000)).toBe(10_000)
    const low = decideFailure({ code: 'SERVER_ERROR', retryable: true, attempts: 2, failingSince: null }, now, DEFAULT_BACKOFF, () => 0)
    const high = decideFailure({ code: 'SERVER_ERROR', retryable: true, attempts: 2, failingSince: null }, now, DEFAULT_BACKOFF, () => 1)
    expect(low).toEqual({ action: 'retry', delayMs: 4000, countAttempt: true })
    expect(high).toEqual({ action: 'retry', delayMs: 8000, countAttempt: true })
  })

  it('keeps retrying a retryable failure for more than a day, then dead-letters it', () => {
    const since = (hours: number) => new Date(now.getTime() - hours * 3600_000)
    expect(decideFailure({ code: 'SERVER_ERROR', retryable: true, attempts: 150, failingSince: since(30) }, now).action).toBe('retry')
    expect(decideFailure({ code: 'REQUEST_LIMIT_EXCEEDED', retryable: true, attempts: 300, failingSince: since(49) }, now).action).toBe('dead_letter')
  })

  it('dead-letters a refusal for good at once', () => {
    expect(decideFailure({ code: 'NOT_FOUND', retryable: false, attempts: 0, failingSince: null }, now)).toEqual({ action: 'dead_letter' })
    expect(decideFailure({ code: 'VALIDATION_ERROR', retryable: false, attempts: 0, failingSince: null }, now)).toEqual({ action: 'dead_letter' })
  })

  it('lets writes of an installation that cannot call its CRM wait, without counting an attempt or dead-lettering', () => {
    for (const code of ['INSTALLATION_INACTIVE', 'INVALID_GRANT']) {
      expect(decideFailure({ code, retryable: false, attempts: 500, failingSince: new Date(0) }, now)).toEqual({ action: 'retry', delayMs: DEFAULT_BACKOFF.inactiveWaitMs, countAttempt: false })
    }
  })
})
