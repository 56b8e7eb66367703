// Delivers signed webhook POSTs like Meta: bounded concurrency, redelivery with backoff on non-2xx, occasional duplicates.
import { createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

export interface DeliveryOptions {
  /** POSTs in flight at once. Default 16. */
  concurrency?: number
  /** Redeliveries after a non-2xx answer or network error. Default 4 (Meta retries for days; tests cannot wait). */
  retries?: number
  /** First retry delay, doubled per attempt. Default 100 ms. */
  backoffMs?: number
  /** Per-attempt timeout. Default 5000 ms. */
  timeoutMs?: number
}

export function sign(appSecret: string, raw: Buffer): string {
  return 'sha256=' + createHmac('sha256', appSecret).update(raw).digest('hex')
}

/** JSON with non-ASCII escaped as \uXXXX, as Meta sends it: catches receivers that verify re-serialised JSON. */
export function metaJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

class Semaphore {
  private free: number
  private readonly waiting: Array<() => void> = []

  constructor(size: number) {
    this.free = size
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free += 1
  }
}

export class WebhookDispatcher {
  sent = 0
  failed = 0
  /** Probability 0..1 that a POST is delivered once more after the first delivery. */
  duplicateProbability = 0

  private readonly appSecret: string
  private readonly getUrl: () => string | undefined
  private readonly retries: number
  private readonly backoffMs: number
  private readonly timeoutMs: number
  private readonly slots: Semaphore
  private readonly pending = new Set<Promise<unknown>>()
  private readonly closing = new AbortController()

  constructor(appSecret: string, getUrl: () => string | undefined, options: DeliveryOptions = {}) {
    this.appSecret = appSecret
    this.getUrl = getUrl
    this.retries = options.retries ?? 4
    this.backoffMs = options.backoffMs ?? 100
    this.timeoutMs = options.timeoutMs ?? 5000
    this.slots = new Semaphore(options.concurrency ?? 16)
  }

  get signal(): AbortSignal {
    return this.closing.signal
  }

  /** Signs and delivers one body; resolves true once a 2xx was received, false when given up or not configured. */
  async post(body: unknown): Promise<boolean> {
    const raw = Buffer.from(metaJson(body), 'utf8')
    const ok = await this.deliver(raw)
    if (ok && Math.random() < this.duplicateProbability) await this.deliver(raw)
    return ok
  }

  /** Registers background work so flush() can wait for it. */
  track(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.pending.delete(tracked))
    this.pending.add(tracked)
  }

  async flush(): Promise<void> {
    // Loop because delivering one status can schedule the next one of the same message.
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  /** Aborts timers and in-flight POSTs; pending work settles promptly. */
  close(): void {
    this.closing.abort()
  }

  private async deliver(raw: Buffer): Promise<boolean> {
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (this.closing.signal.aborted) return false
      const url = this.getUrl()
      if (url === undefined) return false
      if (attempt > 0) {
        try {
          await sleep(this.backoffMs * 2 ** (attempt - 1), undefined, { signal: this.closing.signal })
        } catch {
          return false
        }
      }
      if (await this.attempt(url, raw)) {
        this.sent += 1
        return true
      }
    }
    if (!this.closing.signal.aborted) this.failed += 1
    return false
  }

  private async attempt(url: string, raw: Buffer): Promise<boolean> {
    await this.slots.acquire()
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'facebookexternalua',
          'x-hub-signature-256': sign(this.appSecret, raw),
        },
        body: raw,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeoutMs)]),
      })
      await res.arrayBuffer() // drain so the keep-alive socket is reusable
      return res.ok
    } catch {
      return false
    } finally {
      this.slots.release()
    }
  }
}
