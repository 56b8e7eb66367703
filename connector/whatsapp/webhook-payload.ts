// Flattens a WhatsApp Business Account webhook body into the events the connector acts on.
// One POST holds entry[] × changes[] × statuses[]/messages[]/user_preferences[] (reference
// whatsapp.md §4.3, §5); everything is iterated and fields we do not use are ignored.

export interface StatusEvent {
  kind: 'status'
  phoneNumberId: string | undefined
  wamid: string
  status: string
  occurredAt: Date
  recipientId: string | undefined
  callbackData: string | undefined
  errors: Array<{ code: number; title?: string; message?: string; error_data?: { details?: string } }> | undefined
  pricing: unknown
}

export interface InboundEvent {
  kind: 'inbound'
  phoneNumberId: string | undefined
  wamid: string
  from: string
  profileName: string | undefined
  type: string
  /** The words the person sent or tapped: text body, button text, interactive reply title. */
  text: string | undefined
  /** Quick-reply button payload, when the message is a button tap. */
  buttonPayload: string | undefined
  contextWamid: string | undefined
  occurredAt: Date
  raw: Record<string, unknown>
}

export interface UserPreferenceEvent {
  kind: 'user_preference'
  phoneNumberId: string | undefined
  waId: string
  value: string
  category: string | undefined
  detail: string | undefined
  occurredAt: Date
}

export interface TemplateStatusEvent {
  kind: 'template_status'
  wabaId: string | undefined
  templateId: string
  name: string | undefined
  language: string | undefined
  event: string
  reason: string | undefined
}

export type WebhookEvent = StatusEvent | InboundEvent | UserPreferenceEvent | TemplateStatusEvent

export class WebhookPayloadError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WebhookPayloadError'
  }
}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined)

/** Unix seconds as string or number → Date; a missing or absurd value falls back to `fallback`. */
function time(v: unknown, fallback: Date): Date {
  const n = Number(v)
  const date = new Date(n * 1000)
  // Beyond Date's range (±8.64e15 ms) the result is an Invalid Date, which the database refuses.
  return Number.isFinite(n) && n > 0 && !Number.isNaN(date.getTime()) ? date : fallback
}

export function parseWebhookEvents(body: unknown, receivedAt: Date): WebhookEvent[] {
  if (!isObj(body) || !Array.isArray(body.entry)) throw new WebhookPayloadError('Not a WhatsApp webhook envelope: no entry[]')
  const events: WebhookEvent[] = []
  for (const entry of body.entry) {
    if (!isObj(entry)) continue
    const wabaId = str(entry.id)
    for (const change of arr(entry.changes)) {
      if (!isObj(change) || !isObj(change.value)) continue
      const value = change.value
      const phoneNumberId = isObj(value.metadata) ? str(value.metadata.phone_number_id) : undefined
      switch (change.field) {
        case 'messages':
          collectStatuses(value, phoneNumberId, receivedAt, events)
          collectInbound(value, phoneNumberId, receivedAt, events)
          break
        case 'user_preferences':
          collectPreferences(value, phoneNumberId, receivedAt, events)
          break
        case 'message_template_status_update': {
          const templateId = str(value.message_template_id)
          const event = str(value.event)
          if (templateId && event) {
            events.push({ kind: 'template_status', wabaId, templateId, name: str(value.message_template_name), language: str(value.message_template_language), event, reason: str(value.reason) })
          }
          break
        }
        default:
          break
      }
    }
  }
  return events
}

function collectStatuses(value: Obj, phoneNumberId: string | undefined, receivedAt: Date, out: WebhookEvent[]): void {
  for (const s of arr(value.statuses)) {
    if (!isObj(s)) continue
    const wamid = str(s.id)
    const status = str(s.status)
    if (!wamid || !status) continue
    out.push({
      kind: 'status',
      phoneNumberId,
      wamid,
      status,
      occurredAt: time(s.timestamp, receivedAt),
      recipientId: str(s.recipient_id),
      callbackData: str(s.biz_opaque_callback_data),
      errors: Array.isArray(s.errors) ? (s.errors as StatusEvent['errors']) : undefined,
      pricing: s.pricing,
    })
  }
}

function collectInbound(value: Obj, phoneNumberId: string | undefined, receivedAt: Date, out: WebhookEvent[]): void {
  const names = new Map<string, string>()
  for (const c of arr(value.contacts)) {
    if (isObj(c) && isObj(c.profile)) {
      const waId = str(c.wa_id)
      const name = str(c.profile.name)
      if (waId && name) names.set(waId, name)
    }
  }
  for (const m of arr(value.messages)) {
    if (!isObj(m)) continue
    const wamid = str(m.id)
    const from = str(m.from)
    const type = str(m.type)
    if (!wamid || !from || !type) continue
    out.push({
      kind: 'inbound',
      phoneNumberId,
      wamid,
      from,
      profileName: names.get(from),
      type,
      text: messageText(m),
      buttonPayload: type === 'button' && isObj(m.button) ? str(m.button.payload) : undefined,
      contextWamid: isObj(m.context) ? str(m.context.id) : undefined,
      occurredAt: time(m.timestamp, receivedAt),
      raw: m,
    })
  }
}

function messageText(m: Obj): string | undefined {
  if (isObj(m.text)) return str(m.text.body)
  if (isObj(m.button)) return str(m.button.text)
  if (isObj(m.interactive)) {
    const reply = m.interactive.button_reply ?? m.interactive.list_reply
    if (isObj(reply)) return str(reply.title)
  }
  return undefined
}

function collectPreferences(value: Obj, phoneNumberId: string | undefined, receivedAt: Date, out: WebhookEvent[]): void {
  for (const p of arr(value.user_preferences)) {
    if (!isObj(p)) continue
    const waId = str(p.wa_id)
    const v = str(p.value)
    if (!waId || !v) continue
    out.push({ kind: 'user_preference', phoneNumberId, waId, value: v, category: str(p.category), detail: str(p.detail), occurredAt: time(p.timestamp, receivedAt) })
  }
}
