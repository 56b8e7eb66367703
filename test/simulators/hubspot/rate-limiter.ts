// Rolling-window request counter: HubSpot's TEN_SECONDLY_ROLLING burst limit and the per-token
// search limit are both "at most N requests in any window of T ms".
import type { WindowLimit } from './options.ts'

interface WindowDecision {
  allowed: boolean
  /** Requests left in the window after this one (0 when refused). */
  remaining: number
  /** When refused: ms until the oldest counted request leaves the window. */
  retryAfterMs: number
}

export class RollingWindowLimiter {
  readonly limit: WindowLimit
  readonly #hits = new Map<string, number[]>()

  constructor(limit: WindowLimit) {
    this.limit = limit
  }

  /** Looks without counting, so two limits can be checked before either is charged. */
  peek(key: string, now: number): WindowDecision {
    const hits = this.#prune(key, now)
    if (hits.length >= this.limit.max) {
      const oldest = hits[0] ?? now
      return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, oldest + this.limit.intervalMs - now) }
    }
    return { allowed: true, remaining: this.limit.max - hits.length - 1, retryAfterMs: 0 }
  }

  charge(key: string, now: number): void {
    const hits = this.#hits.get(key)
    if (hits) hits.push(now)
    else this.#hits.set(key, [now])
  }

  #prune(key: string, now: number): number[] {
    const hits = this.#hits.get(key)
    if (!hits) return []
    const cutoff = now - this.limit.intervalMs
    let drop = 0
    while (drop < hits.length && (hits[drop] ?? 0) <= cutoff) drop++
    if (drop > 0) hits.splice(0, drop)
    if (hits.length === 0) this.#hits.delete(key)
    return hits
  }
}
