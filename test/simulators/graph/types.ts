// Public input/output shapes of the Graph simulator, shared by the API object and the /_sim control routes.

export type QualityRating = 'GREEN' | 'YELLOW' | 'RED'

export interface NumberInput {
  phoneNumberId: string
  wabaId: string
  accessToken: string
  displayPhoneNumber: string
  verifiedName?: string
  /** Throughput cap of this number; Meta's default is 80. */
  messagesPerSecond?: number
  qualityRating?: QualityRating
  /** The business portfolio owning the WABA (GET /{waba-id}?fields=owner_business_info); default SIMULATED_PORTFOLIO_ID. */
  businessPortfolioId?: string
}

export interface TemplateInput {
  name: string
  language: string
  /** Default APPROVED. PAUSED/DISABLED sends fail with 132015/132016, anything else non-approved with 132001. */
  status?: string
  /** Default MARKETING; drives conversation/pricing category in status webhooks. */
  category?: string
  /** Graph template components, e.g. `{ type: 'BODY', text: 'Hi {{1}}' }`. */
  components?: unknown[]
  id?: string
}

export interface RecipientFault {
  code: number
  /** sync: the send call returns the Graph error; async: 200 accepted, then `sent` and `failed(code)` webhooks. */
  mode: 'sync' | 'async'
  /** How many sends to this recipient the fault applies to; default: all. */
  times?: number
}

export type SuccessStatus = 'sent' | 'delivered' | 'read'

export interface WebhookBehaviour {
  /** Statuses emitted for each successful send, in order. Default sent, delivered, read. */
  statuses?: SuccessStatus[]
  /** Probability 0..1 that a webhook POST is delivered a second time (1 = always duplicated). Default 0. */
  duplicate?: number
  /** Shuffle each message's statuses; the natural order is never kept when a message has two or more. */
  reorder?: boolean
  /** Wait before each status of a message. Default 0. */
  delayMs?: number
  /** false = accept sends but emit no status webhooks. Default true. */
  enabled?: boolean
  /** Statuses per POST (each in its own entry[], like batch_two_statuses.json). Default 1. */
  batchSize?: number
}

export interface SimulatorStats {
  sendsAccepted: number
  acceptedByRecipient: Record<string, number>
  rejectedByCode: Record<string, number>
  calls: Record<string, number>
  webhooksSent: number
  webhooksFailed: number
}

/** One accepted send as the simulator saw it, for assertions on what the connector sent. */
export interface SentMessage {
  wamid: string
  phoneNumberId: string
  /** The address as sent: `to`, or `recipient` for a send by user id. */
  to: string
  /** The recipient's key: the wa_id, or the BSUID of a send by user id. */
  waId: string
  /** Set when the send went to a business-scoped user id (`recipient`). */
  userId?: string
  type: 'template' | 'text'
  templateName?: string
  templateLanguage?: string
  bizOpaqueCallbackData?: string
  body: Record<string, unknown>
  acceptedAt: number
}
