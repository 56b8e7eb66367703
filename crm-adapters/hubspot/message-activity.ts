// What one WhatsApp message's HubSpot communication says: everything known about the message so
// far (template, number, text, when it was sent/delivered/read, why it failed), merged from
// engagement events that may arrive late, twice or out of order, and rendered as readable text.
import type { EngagementEvent, EngagementKind } from '../crm-adapter.ts'
import { asNumber, asRecord, asString } from './json.ts'

export interface MessageActivity {
  direction: 'outbound' | 'inbound'
  templateName?: string
  businessNumber?: string
  text?: string
  /** Text of a reply recorded against this (outbound) message. */
  replyText?: string
  errorCode?: number
  errorTitle?: string
  /** When each kind of event happened (ISO); the earliest wins when one repeats. */
  happened: Partial<Record<EngagementKind, string>>
}

const ORDER: EngagementKind[] = ['sent', 'delivered', 'read', 'replied', 'failed', 'opted_out', 'opted_in']
const LABEL: Record<EngagementKind, string> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  replied: 'replied',
  failed: 'failed',
  opted_out: 'opted out',
  opted_in: 'opted in',
}

export function mergeActivity(previous: MessageActivity | undefined, events: readonly EngagementEvent[]): MessageActivity {
  const first = events[0]
  const activity: MessageActivity = previous
    ? { ...previous, happened: { ...previous.happened } }
    : { direction: first?.direction ?? 'outbound', happened: {} }
  for (const event of events) {
    const at = event.occurredAt.toISOString()
    const known = activity.happened[event.kind]
    if (known === undefined || at < known) activity.happened[event.kind] = at
    activity.templateName ??= event.templateName
    activity.businessNumber ??= event.businessNumber
    if (event.text !== undefined) {
      if (event.direction === activity.direction) activity.text ??= event.text
      else activity.replyText ??= event.text
    }
    if (event.errorCode !== undefined) activity.errorCode = event.errorCode
    if (event.errorTitle !== undefined) activity.errorTitle = event.errorTitle
  }
  return activity
}

/** The communication's `hs_timestamp`: when the message first happened. */
export function firstHappened(activity: MessageActivity): string {
  return Object.values(activity.happened).sort()[0] ?? new Date(0).toISOString()
}

/**
 * e.g. `WhatsApp template spring_sale sent from +1 555-078-3881 — sent 2026-03-01 10:02, delivered 10:02, read 10:05 (UTC)`
 * or `Incoming WhatsApp message on +1 555-078-3881 — received 2026-03-01 10:07 (UTC)`, then the
 * message text in its own paragraph.
 */
export function renderActivity(activity: MessageActivity): string {
  const inbound = activity.direction === 'inbound'
  const number = activity.businessNumber
  const what = inbound ? 'Incoming WhatsApp message' : activity.templateName ? `WhatsApp template ${activity.templateName}` : 'WhatsApp message'
  const via = inbound ? (number ? ` on ${number}` : '') : ` sent${number ? ` from ${number}` : ''}`
  let day: string | undefined
  const steps = ORDER.flatMap((kind) => {
    const at = activity.happened[kind]
    if (at === undefined) return []
    const date = at.slice(0, 10)
    const stamp = date === day ? at.slice(11, 16) : `${date} ${at.slice(11, 16)}`
    day = date
    const failure = kind === 'failed' ? failureDetail(activity) : ''
    // For a message the contact wrote, "replied" is when it came in.
    const label = inbound && kind === 'replied' ? 'received' : LABEL[kind]
    return [`${label} ${stamp}${failure}`]
  })
  const lines = [`${what}${via}${steps.length > 0 ? ` — ${steps.join(', ')} (UTC)` : ''}`]
  if (activity.text) lines.push(activity.text)
  if (activity.replyText) lines.push(`Reply: ${activity.replyText}`)
  return lines.join('\n\n')
}

function failureDetail(activity: MessageActivity): string {
  const parts = [activity.errorCode === undefined ? undefined : `error ${activity.errorCode}`, activity.errorTitle].filter(Boolean)
  return parts.length > 0 ? ` (${parts.join(': ')})` : ''
}

/** Stored form, kept by the connector between writes; unreadable state starts afresh. */
export function serializeActivity(activity: MessageActivity): string {
  return JSON.stringify(activity)
}

export function parseActivity(state: string | undefined): MessageActivity | undefined {
  if (!state) return undefined
  let raw: Record<string, unknown>
  try {
    raw = asRecord(JSON.parse(state))
  } catch {
    return undefined
  }
  const direction = raw.direction === 'inbound' ? 'inbound' : 'outbound'
  const happened: MessageActivity['happened'] = {}
  for (const kind of ORDER) {
    const at = asString(asRecord(raw.happened)[kind])
    if (at !== undefined) happened[kind] = at
  }
  return {
    direction,
    templateName: asString(raw.templateName),
    businessNumber: asString(raw.businessNumber),
    text: asString(raw.text),
    replyText: asString(raw.replyText),
    errorCode: asNumber(raw.errorCode),
    errorTitle: asString(raw.errorTitle),
    happened,
  }
}
