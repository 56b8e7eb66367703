// Flattens a WhatsApp Business Account webhook body into the events the connector acts on.
// One POST holds entry[] × changes[] × statuses[]/messages[]/user_preferences[] (reference
// whatsapp.md §4.3, §5); everything is iterated and fields we do not use are ignored. People are
// named by phone (wa_id, from, recipient_id) and/or by business-scoped user id (user_id,
// from_user_id, recipient_user_id), either of which may be missing (§9).

export interface StatusEvent {
  kind: 'status'
  phoneNumberId: string | undefined
  wabaId: string | undefined
  wamid: string
  status: string
  occurredAt: Date
  recipientId: string | undefined
  recipientUserId: string | undefined
  recipientParentUserId: string | undefined
  callbackData: string | undefined
  errors: Array<{ code: number; title?: string; message?: string; error_data?: { details?: string } }> | undefined
  pricing: unknown
}

export interface InboundEvent {
  kind: 'inbound'
  phoneNumberId: string | undefined
  wabaId: string | undefined
  wamid: string
  /** The sender's wa_id; absent for a user who does not share their phone. */
  from: string | undefined
  fromUserId: string | undefined
  fromParentUserId: string | undefined
  profileName: string | undefined
  username: string | undefined
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
  wabaId: string | undefined
  waId: string | undefined
  userId: string | undefined
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

/** A contacts[] entry naming a user by BSUID, with their phone and username when given. */
export interface IdentityEvent {
  kind: 'identity'
  phoneNumberId: string | undefined
  wabaId: string | undefined
  userId: string
  parentUserId: string | undefined
  waId: string | undefined
  username: string | undefined
}

/** The user's BSUID was replaced (system message `user_changed_user_id`, or a `user_id_update` field). */
export interface UserIdChangeEvent {
  kind: 'user_id_change'
  phoneNumberId: string | undefined
  wabaId: string | undefined
  previousUserId: string
  userId: string
  parentUserId: string | undefined
  occurredAt: Date
}

/** A message or preference that names no one: neither phone nor user id. */
export interface UnidentifiedEvent {
  kind: 'unidentified'
  reason: string
}

export type WebhookEvent = StatusEvent | InboundEvent | UserPreferenceEvent | TemplateStatusEvent | IdentityEvent | UserIdChangeEvent | UnidentifiedEvent

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
          collectIdentities(value, phoneNumberId, wabaId, events)
          collectStatuses(value, phoneNumberId, wabaId, receivedAt, events)
          collectInbound(value, phoneNumberId, wabaId, receivedAt, events)
          break
        case 'user_preferences':
          collectIdentities(value, phoneNumberId, wabaId, events)
          collectPreferences(value, phoneNumberId, wabaId, receivedAt, events)
          break
        case 'user_id_update':
          // Announced, then documented as not subscribable (reference §9); accepted should it arrive.
          for (const u of [value, ...arr(value.user_id_update)]) if (isObj(u)) collectUserIdChange(u, phoneNumberId, wabaId, time(u.timestamp, receivedAt), events)
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

function collectIdentities(value: Obj, phoneNumberId: string | undefined, wabaId: string | undefined, out: WebhookEvent[]): void {
  for (const c of arr(value.contacts)) {
    const userId = isObj(c) ? str(c.user_id) : undefined
    if (!isObj(c) || !userId) continue
    const profile = isObj(c.profile) ? c.profile : {}
    out.push({ kind: 'identity', phoneNumberId, wabaId, userId, parentUserId: str(c.parent_user_id), waId: str(c.wa_id), username: str(profile.username) })
  }
}

function collectUserIdChange(v: Obj, phoneNumberId: string | undefined, wabaId: string | undefined, occurredAt: Date, out: WebhookEvent[]): void {
  const previousUserId = str(v.previous_user_id)
  const userId = str(v.user_id)
  if (previousUserId && userId) out.push({ kind: 'user_id_change', phoneNumberId, wabaId, previousUserId, userId, parentUserId: str(v.parent_user_id), occurredAt })
}

function collectStatuses(value: Obj, phoneNumberId: string | undefined, wabaId: string | undefined, receivedAt: Date, out: WebhookEvent[]): void {
  for (const s of arr(value.statuses)) {
    if (!isObj(s)) continue
    const wamid = str(s.id)
    const status = str(s.status)
    if (!wamid || !status) continue
    out.push({
      kind: 'status',
      phoneNumberId,
      wabaId,
      wamid,
      status,
      occurredAt: time(s.timestamp, receivedAt),
      recipientId: str(s.recipient_id),
      recipientUserId: str(s.recipient_user_id),
      // Both spellings are in circulation (reference §9).
      recipientParentUserId: str(s.recipient_parent_user_id) ?? str(s.parent_recipient_user_id),
      callbackData: str(s.biz_opaque_callback_data),
      errors: Array.isArray(s.errors) ? (s.errors as StatusEvent['errors']) : undefined,
      pricing: s.pricing,
    })
  }
}

function collectInbound(value: Obj, phoneNumberId: string | undefined, wabaId: string | undefined, receivedAt: Date, out: WebhookEvent[]): void {
  // A contact's profile, found by the wa_id or the user id its message carries.
  const profiles = new Map<string, Obj>()
  for (const c of arr(value.contacts)) {
    if (!isObj(c) || !isObj(c.profile)) continue
    for (const id of [str(c.wa_id), str(c.user_id)]) if (id) profiles.set(id, c.profile)
  }
  for (const m of arr(value.messages)) {
    if (!isObj(m)) continue
    const wamid = str(m.id)
    const type = str(m.type)
    if (!wamid || !type) continue
    if (type === 'system' && isObj(m.system) && m.system.type === 'user_changed_user_id') {
      collectUserIdChange(m.system, phoneNumberId, wabaId, time(m.timestamp, receivedAt), out)
      continue
    }
    const from = str(m.from)
    const fromUserId = str(m.from_user_id)
    if (!from && !fromUserId) {
      out.push({ kind: 'unidentified', reason: `message ${wamid} carries neither from nor from_user_id` })
      continue
    }
    const profile = profiles.get(from ?? '') ?? profiles.get(fromUserId ?? '')
    out.push({
      kind: 'inbound',
      phoneNumberId,
      wabaId,
      wamid,
      from,
      fromUserId,
      fromParentUserId: str(m.from_parent_user_id),
      profileName: profile ? str(profile.name) : undefined,
      username: profile ? str(profile.username) : undefined,
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

function collectPreferences(value: Obj, phoneNumberId: string | undefined, wabaId: string | undefined, receivedAt: Date, out: WebhookEvent[]): void {
  for (const p of arr(value.user_preferences)) {
    if (!isObj(p)) continue
    const waId = str(p.wa_id)
    const userId = str(p.user_id)
    const v = str(p.value)
    if (!v) continue
    if (!waId && !userId) {
      out.push({ kind: 'unidentified', reason: `user_preferences "${v}" carries neither wa_id nor user_id` })
      continue
    }
    out.push({ kind: 'user_preference', phoneNumberId, wabaId, waId, userId, value: v, category: str(p.category), detail: str(p.detail), occurredAt: time(p.timestamp, receivedAt) })
  }
}
