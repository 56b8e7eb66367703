// Turns accepted sends into status webhook sequences (sent → delivered → read, or sent → failed) per the configured behaviour.
import { setTimeout as sleep } from 'node:timers/promises'
import { statusEnvelope } from './status-payloads.ts'
import type { MessageContext, StatusEvent, StatusName } from './status-payloads.ts'
import type { SuccessStatus, WebhookBehaviour } from './types.ts'
import type { WebhookDispatcher } from './webhook-dispatcher.ts'

/** How long a partly filled batch waits for more statuses before it is posted anyway. */
const BATCH_WINDOW_MS = 25

interface Behaviour {
  statuses: SuccessStatus[]
  duplicate: number
  reorder: boolean
  delayMs: number
  enabled: boolean
  batchSize: number
}

export function defaultBehaviour(): Behaviour {
  return { statuses: ['sent', 'delivered', 'read'], duplicate: 0, reorder: false, delayMs: 0, enabled: true, batchSize: 1 }
}

interface Waiting {
  event: StatusEvent
  done: (ok: boolean) => void
}

export class StatusWebhooks {
  private behaviour = defaultBehaviour()
  private batch: Waiting[] = []
  private batchTimer: NodeJS.Timeout | undefined
  private readonly dispatcher: WebhookDispatcher

  constructor(dispatcher: WebhookDispatcher) {
    this.dispatcher = dispatcher
  }

  configure(b: WebhookBehaviour): void {
    const next = { ...this.behaviour }
    if (b.statuses !== undefined) next.statuses = [...b.statuses]
    if (b.duplicate !== undefined) next.duplicate = Math.min(1, Math.max(0, b.duplicate))
    if (b.reorder !== undefined) next.reorder = b.reorder
    if (b.delayMs !== undefined) next.delayMs = Math.max(0, b.delayMs)
    if (b.enabled !== undefined) next.enabled = b.enabled
    if (b.batchSize !== undefined) next.batchSize = Math.max(1, Math.floor(b.batchSize))
    this.behaviour = next
    this.dispatcher.duplicateProbability = next.duplicate
  }

  reset(): void {
    this.configure(defaultBehaviour())
  }

  /** Schedules the statuses of one accepted message; `failureCode` turns it into sent → failed(code). */
  schedule(message: MessageContext, failureCode?: number): void {
    const b = this.behaviour
    if (!b.enabled) return
    let statuses: StatusName[] = failureCode === undefined ? [...b.statuses] : ['sent', 'failed']
    if (b.reorder) statuses = shuffleAwayFromOrder(statuses)
    const events = statuses.map((status): StatusEvent => (status === 'failed' ? { message, status, errorCode: failureCode } : { message, status }))
    this.dispatcher.track(this.deliverInOrder(events, b.delayMs))
  }

  // One message's statuses go out one after another (each after the previous was delivered or given up),
  // so the order chosen above is the order the receiver sees; different messages interleave freely.
  private async deliverInOrder(events: StatusEvent[], delayMs: number): Promise<void> {
    for (const event of events) {
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: this.dispatcher.signal })
      await this.enqueue(event)
    }
  }

  private enqueue(event: StatusEvent): Promise<boolean> {
    if (this.behaviour.batchSize === 1) return this.dispatcher.post(statusEnvelope([event]))
    return new Promise((done) => {
      this.batch.push({ event, done })
      if (this.batch.length >= this.behaviour.batchSize) this.postBatch()
      else this.batchTimer ??= setTimeout(() => this.postBatch(), BATCH_WINDOW_MS)
    })
  }

  private postBatch(): void {
    clearTimeout(this.batchTimer)
    this.batchTimer = undefined
    const batch = this.batch
    this.batch = []
    const delivery = this.dispatcher.post(statusEnvelope(batch.map((w) => w.event)))
    void delivery.then((ok) => batch.forEach((w) => w.done(ok)))
  }
}

/** Random permutation that differs from the input whenever it has two or more distinct items. */
export function shuffleAwayFromOrder<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  if (out.length > 1 && out.every((x, i) => x === items[i])) out.push(out.shift() as T)
  return out
}
