import { describe, expect, it } from 'vitest'
import { HubSpotRateLimiter, SlidingWindow } from '../../../crm-adapters/hubspot/rate-limiter.ts'
import { virtualClock } from './helpers.ts'

/** Most grants that fall into any half-open window [t, t + intervalMs). */
function busiestWindow(times: number[], intervalMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= intervalMs) j++
    best = Math.max(best, i - j + 1)
  }
  return best
}

describe('SlidingWindow', () => {
  it('keeps 150 rapid calls at or under max per interval, without needless waiting', async () => {
    const clock = virtualClock()
    const window = new SlidingWindow({ max: 10, intervalMs: 1_000 }, clock)
    const start = clock.now()
    const grants = await Promise.all(
      Array.from({ length: 150 }, async () => {
        const release = await window.acquire()
        const at = clock.now()
        release()
        return at
      }),
    )
    expect(busiestWindow(grants, 1_000)).toBe(10)
    // 15 windows' worth: the last ten go out 14 s after the first ten.
    expect(Math.max(...grants) - start).toBe(14_000)
  })

  it('counts a slot from sending until an interval after the response', async () => {
    const clock = virtualClock()
    const window = new SlidingWindow({ max: 2, intervalMs: 1_000 }, clock)
    const first = await window.acquire()
    const second = await window.acquire()
    let thirdAt: number | undefined
    const third = window.acquire().then((release) => ((thirdAt = clock.now()), release))
    await clock.sleep(5_000) // a slow response: both still in flight
    expect(thirdAt).toBeUndefined()
    const respondedAt = clock.now()
    first()
    second()
    ;(await third)()
    expect(thirdAt).toBe(respondedAt + 1_000)
  })

  it('rejects a window that could never grant', () => {
    expect(() => new SlidingWindow({ max: 0, intervalMs: 1_000 })).toThrow(RangeError)
  })
})

describe('HubSpotRateLimiter', () => {
  it('paces search calls by the search window while other calls go on', async () => {
    const clock = virtualClock()
    const limiter = new HubSpotRateLimiter({ burst: { max: 100, intervalMs: 10_000 }, search: { max: 4, intervalMs: 1_000 } }, clock)
    const run = (search: boolean) => async () => {
      const release = await limiter.acquire(search)
      const at = clock.now()
      release()
      return at
    }
    const start = clock.now()
    const searches = Array.from({ length: 12 }, run(true))
    const others = Array.from({ length: 20 }, run(false))
    const searchTimes = await Promise.all(searches)
    const otherTimes = await Promise.all(others)
    expect(busiestWindow(searchTimes, 1_000)).toBe(4)
    expect(Math.max(...searchTimes) - start).toBe(2_000)
    expect(otherTimes.every((t) => t - start <= 2_000)).toBe(true)
  })

  it('charges search calls to the burst window too', async () => {
    const clock = virtualClock()
    const limiter = new HubSpotRateLimiter({ burst: { max: 5, intervalMs: 10_000 }, search: { max: 4, intervalMs: 1_000 } }, clock)
    const times = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const release = await limiter.acquire(i % 2 === 0)
        const at = clock.now()
        release()
        return at
      }),
    )
    // Virtual sleeps of two waiting windows add up, so the spread may be wider than real time's.
    expect(times).toHaveLength(10)
    expect(busiestWindow(times, 10_000)).toBeLessThanOrEqual(5)
  })
})
