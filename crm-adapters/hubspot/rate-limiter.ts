// Client-side pacing per installation, so the adapter stays under HubSpot's limits instead of
// provoking 429s. Limits (reference hubspot.md §2): OAuth apps 100 requests / 10 s per app per
// portal (https://developers.hubspot.com/apisbytier); CRM search 4 requests / s per token
// (https://developers.hubspot.com/changelog/crm-search-api-rate-limit-increase).
// The SDK's Bottleneck limiter is a process-wide singleton, so each installation gets its own here.
import { type Clock, systemClock } from './clock.ts'

export interface WindowLimit {
  max: number
  intervalMs: number
}

export interface RateLimitOptions {
  /** Every call of this installation. Default 90 per 10 s: headroom under HubSpot's 100. */
  burst?: WindowLimit
  /** CRM search calls, which also count towards `burst`. Default 4 per second. */
  search?: WindowLimit
}

const DEFAULT_BURST: WindowLimit = { max: 90, intervalMs: 10_000 }
const DEFAULT_SEARCH: WindowLimit = { max: 4, intervalMs: 1_000 }

/** Frees the slot; call once the response has arrived. */
export type Release = () => void

/**
 * At most `max` requests in any `intervalMs`, counted the way the server sees them: a slot is held
 * from sending until `intervalMs` after the response arrived. The server counts a request when it
 * arrives, which lies between those two moments, so network delay can never squeeze more than
 * `max` requests into one of its windows. Waiters are served first come, first served.
 */
export class SlidingWindow {
  readonly limit: WindowLimit
  readonly #clock: Clock
  #inFlight = 0
  /** When completed requests leave the window, ascending. */
  #expiries: number[] = []
  #queue: Promise<unknown> = Promise.resolve()
  #onRelease: (() => void) | undefined

  constructor(limit: WindowLimit, clock: Clock = systemClock) {
    if (!(limit.max >= 1 && limit.intervalMs > 0)) throw new RangeError('a window needs max >= 1 and intervalMs > 0')
    this.limit = limit
    this.#clock = clock
  }

  acquire(): Promise<Release> {
    const granted = this.#queue.then(() => this.#waitForSlot())
    this.#queue = granted.catch(() => undefined)
    return granted
  }

  async #waitForSlot(): Promise<Release> {
    for (;;) {
      const now = this.#clock.now()
      while (this.#expiries.length > 0 && (this.#expiries[0] ?? 0) <= now) this.#expiries.shift()
      if (this.#inFlight + this.#expiries.length < this.limit.max) {
        this.#inFlight++
        return this.#releaser()
      }
      // A release never frees a slot by itself (it turns into an expiry), so the next chance is
      // the earliest expiry, or, with everything in flight, the next release.
      const earliest = this.#expiries[0]
      if (earliest !== undefined) await this.#clock.sleep(earliest - now)
      else await new Promise<void>((resolve) => (this.#onRelease = resolve))
    }
  }

  #releaser(): Release {
    let released = false
    return () => {
      if (released) return
      released = true
      this.#inFlight--
      // Responses may complete out of order; keep expiries sorted.
      const expiry = this.#clock.now() + this.limit.intervalMs
      let i = this.#expiries.length
      while (i > 0 && (this.#expiries[i - 1] ?? 0) > expiry) i--
      this.#expiries.splice(i, 0, expiry)
      const wake = this.#onRelease
      this.#onRelease = undefined
      wake?.()
    }
  }
}

/**
 * One installation's budget. Share one instance between every adapter built for the same portal;
 * several connector processes do not share it, which is why 429s are still handled.
 */
export class HubSpotRateLimiter {
  readonly #burst: SlidingWindow
  readonly #search: SlidingWindow

  constructor(options: RateLimitOptions = {}, clock: Clock = systemClock) {
    this.#burst = new SlidingWindow(options.burst ?? DEFAULT_BURST, clock)
    this.#search = new SlidingWindow(options.search ?? DEFAULT_SEARCH, clock)
  }

  /** Waits for a slot; search calls take a search slot first, then a burst slot. */
  async acquire(search: boolean): Promise<Release> {
    const releaseSearch = search ? await this.#search.acquire() : undefined
    const releaseBurst = await this.#burst.acquire()
    return () => {
      releaseBurst()
      releaseSearch?.()
    }
  }
}
