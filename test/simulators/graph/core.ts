// The simulator's state and operations, independent of HTTP: registry, limits, faults, counters, status webhooks.
import { createHash, randomBytes } from 'node:crypto'
import { Registry } from './registry.ts'
import type { PhoneNumber } from './registry.ts'
import { SendRateLimits } from './rate-limits.ts'
import type { PairLimit } from './rate-limits.ts'
import { StatusWebhooks } from './status-webhooks.ts'
import { WebhookDispatcher } from './webhook-dispatcher.ts'
import type { DeliveryOptions } from './webhook-dispatcher.ts'
import type { NumberInput, RecipientFault, SentMessage, SimulatorStats, TemplateInput, WebhookBehaviour } from './types.ts'

/** Accepted sends kept for messages(); older ones are dropped so long benchmarks do not grow memory without bound. */
const MESSAGE_LOG_LIMIT = 10_000

interface ActiveFault {
  code: number
  mode: 'sync' | 'async'
  remaining: number
}

export interface CoreOptions {
  appSecret: string
  webhookUrl?: string
  pairRateLimit?: PairLimit
  webhookDelivery?: DeliveryOptions
}

export class SimulatorCore {
  readonly registry = new Registry()
  readonly limits: SendRateLimits
  readonly dispatcher: WebhookDispatcher
  readonly statusWebhooks: StatusWebhooks
  webhookUrl: string | undefined
  latencyMs = 0

  private faults = new Map<string, ActiveFault>()
  private counters = emptyStats()
  private log: SentMessage[] = []

  constructor(options: CoreOptions) {
    this.webhookUrl = options.webhookUrl
    this.limits = new SendRateLimits(options.pairRateLimit)
    this.dispatcher = new WebhookDispatcher(options.appSecret, () => this.webhookUrl, options.webhookDelivery)
    this.statusWebhooks = new StatusWebhooks(this.dispatcher)
  }

  addNumber(n: NumberInput): void {
    this.registry.addNumber(n)
    this.limits.forgetNumber(n.phoneNumberId)
  }

  addTemplate(wabaId: string, t: TemplateInput): string {
    return this.registry.addTemplate(wabaId, t).id
  }

  failRecipient(waId: string, fault: RecipientFault): void {
    this.faults.set(waId.replace(/^\+/, ''), { code: fault.code, mode: fault.mode, remaining: fault.times ?? Infinity })
  }

  /** The fault that applies to this send, consuming one of its `times`. */
  takeFault(waId: string): ActiveFault | undefined {
    const fault = this.faults.get(waId)
    if (!fault) return undefined
    fault.remaining -= 1
    if (fault.remaining <= 0) this.faults.delete(waId)
    return fault
  }

  setWebhookBehaviour(b: WebhookBehaviour): void {
    this.statusWebhooks.configure(b)
  }

  countCall(endpoint: string): void {
    this.counters.calls[endpoint] = (this.counters.calls[endpoint] ?? 0) + 1
  }

  countRejection(code: number): void {
    this.counters.rejectedByCode[code] = (this.counters.rejectedByCode[code] ?? 0) + 1
  }

  recordAccepted(message: SentMessage): void {
    this.counters.sendsAccepted += 1
    this.counters.acceptedByRecipient[message.waId] = (this.counters.acceptedByRecipient[message.waId] ?? 0) + 1
    this.log.push(message)
    if (this.log.length > MESSAGE_LOG_LIMIT) this.log.splice(0, this.log.length - MESSAGE_LOG_LIMIT)
  }

  stats(): SimulatorStats {
    const c = this.counters
    return {
      sendsAccepted: c.sendsAccepted,
      acceptedByRecipient: { ...c.acceptedByRecipient },
      rejectedByCode: { ...c.rejectedByCode },
      calls: { ...c.calls },
      webhooksSent: this.dispatcher.sent - c.webhooksSentBase,
      webhooksFailed: this.dispatcher.failed - c.webhooksFailedBase,
    }
  }

  messages(): SentMessage[] {
    return [...this.log]
  }

  /** Counters, faults, rate-limit state, latency, webhook behaviour and the message log; numbers, templates and the webhook URL stay. */
  reset(): void {
    this.counters = emptyStats(this.dispatcher.sent, this.dispatcher.failed)
    this.faults.clear()
    this.limits.reset()
    this.latencyMs = 0
    this.statusWebhooks.reset()
    this.log = []
  }
}

function emptyStats(webhooksSentBase = 0, webhooksFailedBase = 0) {
  return {
    sendsAccepted: 0,
    acceptedByRecipient: {} as Record<string, number>,
    rejectedByCode: {} as Record<string, number>,
    calls: {} as Record<string, number>,
    // The dispatcher counts for its whole life; stats report deliveries since the last reset.
    webhooksSentBase,
    webhooksFailedBase,
  }
}

/** A wamid laid out like Meta's (base64 of: 0x1C 0x18 len, wa_id, 0x15 0x02 0x00 0x11 0x18 0x12, 18 hex chars, 0x00). */
export function newWamid(waId: string): string {
  const raw = Buffer.concat([
    Buffer.from([0x1c, 0x18, waId.length]),
    Buffer.from(waId),
    Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x12]),
    Buffer.from(randomBytes(9).toString('hex').toUpperCase()),
    Buffer.from([0x00]),
  ])
  return 'wamid.' + raw.toString('base64')
}

/** Stable per number, recipient and category, like a conversation window. */
export function conversationId(number: PhoneNumber, waId: string, category: string): string {
  return createHash('sha256').update(`${number.id}|${waId}|${category}`).digest('hex').slice(0, 32)
}
