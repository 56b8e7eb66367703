import type { EngagementEvent, EngagementKind } from '../crm-adapter.ts'
import type { PackageFields } from './salesforce-soql.ts'

// One Salesforce Task per WhatsApp message, rewritten as the message moves (sent → delivered →
// read, or failed). Its Description carries the status trail, so the next write reads the Task,
// merges the new events in and writes the whole Task again; the layout below is what it parses:
//
//   Status trail (UTC):
//   2025-03-01 10:00:00 sent
//   2025-03-01 10:00:04 delivered
//
//   Direction: outbound
//   Business number: +1 555-078-3881
//   Template: spring_sale
//
//   Message:
//   <the text, last, so it may hold anything>
//
// Task fields: https://developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-task.html

const TRAIL_HEADING = 'Status trail (UTC):'
const MESSAGE_HEADING = 'Message:'
const TRAIL_LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) ([a-z_]+)(?: \((.*)\))?$/
const SUBJECT_MAX = 255
const DESCRIPTION_MAX = 32_000
const SNIPPET_MAX = 80

/** Which status the Subject shows: the furthest one (failed is terminal); equal ranks go to the later event. */
const RANK: Record<EngagementKind, number> = { sent: 1, delivered: 2, read: 3, replied: 4, opted_in: 5, opted_out: 5, failed: 6 }
const KINDS = new Set(Object.keys(RANK))
const LABELS: Array<['direction' | 'businessNumber' | 'templateName', string]> = [['direction', 'Direction'], ['businessNumber', 'Business number'], ['templateName', 'Template']]

interface TrailEntry {
  kind: EngagementKind
  at: Date
  detail?: string
}

export interface TaskFacts {
  /** One entry per kind, the earliest, oldest first. */
  trail: TrailEntry[]
  direction?: string
  businessNumber?: string
  templateName?: string
  text?: string
}

const oneLine = (value: string) => value.replace(/\s*[\r\n]+\s*/g, ' ').trim()
const stamp = (at: Date) => at.toISOString().slice(0, 19).replace('T', ' ')

/** What an earlier write left in the Description; anything not in our layout is ignored. */
export function parseDescription(description: string | null | undefined): TaskFacts {
  const facts: TaskFacts = { trail: [] }
  const lines = (description ?? '').split(/\r?\n/)
  if (lines[0] !== TRAIL_HEADING) return facts
  let i = 1
  for (; i < lines.length && lines[i] !== ''; i++) {
    const match = TRAIL_LINE.exec(lines[i] as string)
    if (match && KINDS.has(match[2] as string)) {
      facts.trail.push({ kind: match[2] as EngagementKind, at: new Date(`${(match[1] as string).replace(' ', 'T')}Z`), ...(match[3] ? { detail: match[3] } : {}) })
    }
  }
  for (; i < lines.length; i++) {
    const line = lines[i] as string
    if (line === MESSAGE_HEADING) {
      facts.text = lines.slice(i + 1).join('\n')
      break
    }
    for (const [key, label] of LABELS) if (line.startsWith(`${label}: `)) facts[key] = line.slice(label.length + 2)
  }
  return facts
}

function failureDetail(event: EngagementEvent): string | undefined {
  const parts = [event.errorCode === undefined ? undefined : String(event.errorCode), event.errorTitle ? oneLine(event.errorTitle) : undefined].filter(Boolean)
  return parts.length > 0 ? parts.join(': ') : undefined
}

/** Folds new events into what the Task already says. Re-applying the same events changes nothing. */
export function mergeFacts(existing: TaskFacts, events: EngagementEvent[]): TaskFacts {
  const byKind = new Map(existing.trail.map((e) => [e.kind, e]))
  for (const event of events) {
    const current = byKind.get(event.kind)
    const detail = failureDetail(event)
    if (!current || event.occurredAt < current.at) byKind.set(event.kind, { kind: event.kind, at: event.occurredAt, ...(detail ? { detail } : {}) })
  }
  const first = (pick: (e: EngagementEvent) => string | undefined) => events.map(pick).find((v) => v !== undefined && v !== '')
  const direction = first((e) => e.direction) ?? existing.direction
  const businessNumber = first((e) => e.businessNumber && oneLine(e.businessNumber)) ?? existing.businessNumber
  const templateName = first((e) => e.templateName && oneLine(e.templateName)) ?? existing.templateName
  const text = first((e) => e.text) ?? existing.text
  return {
    trail: [...byKind.values()].sort((a, b) => a.at.getTime() - b.at.getTime() || RANK[a.kind] - RANK[b.kind]),
    ...(direction ? { direction } : {}),
    ...(businessNumber ? { businessNumber } : {}),
    ...(templateName ? { templateName } : {}),
    ...(text ? { text } : {}),
  }
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`
}

/** `WhatsApp: read "spring_sale"`: the furthest status, and the template (or the start of the text). */
export function taskSubject(facts: TaskFacts): string {
  const headline = facts.trail.reduce<TrailEntry | undefined>((best, e) => (!best || RANK[e.kind] >= RANK[best.kind] ? e : best), undefined)
  const label = facts.templateName ?? (facts.text ? truncate(oneLine(facts.text), SNIPPET_MAX) : undefined)
  return truncate(`WhatsApp: ${headline ? headline.kind.replace('_', ' ') : 'message'}${label ? ` "${label}"` : ''}`, SUBJECT_MAX)
}

export function taskDescription(facts: TaskFacts): string {
  const trail = facts.trail.map((e) => `${stamp(e.at)} ${e.kind}${e.detail ? ` (${e.detail})` : ''}`)
  const labelled = LABELS.flatMap(([key, label]) => (facts[key] ? [`${label}: ${facts[key]}`] : []))
  const head = [TRAIL_HEADING, ...trail, '', ...labelled].join('\n')
  if (!facts.text) return head
  const prefix = `${head}\n\n${MESSAGE_HEADING}\n`
  return prefix + truncate(facts.text, DESCRIPTION_MAX - prefix.length)
}

/**
 * The Task record for a collections upsert on the message id. TaskSubtype can only be set when
 * the Task is created, so it is sent for new Tasks only. ActivityDate is the UTC date of the
 * message's first event, so the Task stays on the day the message happened.
 */
export function taskRecord(fields: PackageFields, messageId: string, whoId: string, facts: TaskFacts, isNew: boolean): Record<string, unknown> {
  const first = facts.trail[0]
  return {
    attributes: { type: 'Task' },
    [fields.messageId]: messageId,
    WhoId: whoId,
    Subject: taskSubject(facts),
    Description: taskDescription(facts),
    Status: 'Completed',
    ...(first ? { ActivityDate: first.at.toISOString().slice(0, 10) } : {}),
    ...(isNew ? { TaskSubtype: 'Task' } : {}),
  }
}
