// Meta's two send-side limits: per-number throughput (130429) and per business→user pair rate (131056).

/** Continuous-refill token bucket: `capacity` burst, `refillPerSecond` sustained. */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly capacity: number
  private readonly refillPerSecond: number

  constructor(capacity: number, refillPerSecond: number, now: number) {
    this.capacity = capacity
    this.refillPerSecond = refillPerSecond
    this.tokens = capacity
    this.last = now
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

export interface PairLimit {
  /** Sends to one recipient allowed back to back. */
  burst: number
  /** Sustained spacing after the burst (Meta: about one message per 6 s). */
  intervalMs: number
}

export const DEFAULT_PAIR_LIMIT: PairLimit = { burst: 5, intervalMs: 6000 }

export class SendRateLimits {
  private readonly numbers = new Map<string, TokenBucket>()
  private readonly pairs = new Map<string, TokenBucket>()
  private readonly pairLimit: PairLimit
  private readonly now: () => number

  constructor(pairLimit: PairLimit = DEFAULT_PAIR_LIMIT, now: () => number = () => performance.now()) {
    this.pairLimit = pairLimit
    this.now = now
  }

  /** Takes a throughput token for the number; false means 130429. */
  takeThroughput(phoneNumberId: string, messagesPerSecond: number): boolean {
    const now = this.now()
    let bucket = this.numbers.get(phoneNumberId)
    if (!bucket) this.numbers.set(phoneNumberId, (bucket = new TokenBucket(messagesPerSecond, messagesPerSecond, now)))
    return bucket.take(now)
  }

  /** Takes a pair token for number→recipient; false means 131056. */
  takePair(phoneNumberId: string, waId: string): boolean {
    const now = this.now()
    const key = `${phoneNumberId}>${waId}`
    let bucket = this.pairs.get(key)
    if (!bucket) this.pairs.set(key, (bucket = new TokenBucket(this.pairLimit.burst, 1000 / this.pairLimit.intervalMs, now)))
    return bucket.take(now)
  }

  /** Drops a number's bucket (its mps changed), so the next send builds one with the new cap. */
  forgetNumber(phoneNumberId: string): void {
    this.numbers.delete(phoneNumberId)
  }

  reset(): void {
    this.numbers.clear()
    this.pairs.clear()
  }
}
