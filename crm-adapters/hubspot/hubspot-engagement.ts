// Engagement on the contact timeline: one WhatsApp communication per message, created the first
// time the message is seen and updated as later events arrive; plus, when HubSpot has approved
// app events for the app, one immutable app event per engagement event (reference hubspot.md
// §8.0, §8a; https://developers.hubspot.com/docs/api/crm/communications).
//
// Idempotency: HubSpot has no create-if-absent for communications (objectWriteTraceId only
// labels batch results; it does not deduplicate), and finding an earlier one by search is racy
// because the search index trails writes. So the communication id of each message is kept by
// the connector through a CommunicationStore, saved as soon as the create returns.
import { CrmError, type EngagementEvent, type EngagementKind, type WriteResult } from '../crm-adapter.ts'
import { withoutNamed } from './batch-retry.ts'
import { batchErrors, errorFromResponse } from './hubspot-errors.ts'
import type { HubSpotHttp } from './hubspot-http.ts'
import { asArray, asRecord, asString, chunks } from './json.ts'
import { firstHappened, type MessageActivity, mergeActivity, parseActivity, renderActivity, serializeActivity } from './message-activity.ts'

/** Batch create/update maximum for CRM objects (reference §4, SDK DEFAULT_OBJECTS_LIMIT). */
const BATCH_MAX = 100
/** App events batch maximum (the simulator's and the legacy timeline's 500; HubSpot's is unconfirmed). */
const APP_EVENTS_BATCH_MAX = 500
/** HubSpot-defined association type "communication to contact" (unconfirmed in reference §8.0; what the simulator requires). */
const COMMUNICATION_TO_CONTACT = 81

export interface StoredCommunication {
  messageId: string
  communicationId: string
  /** What the communication says so far, so an update adds to it; opaque to the store. */
  state: string
}

/**
 * Where the connector keeps, per installation, which HubSpot communication stands for which
 * WhatsApp message. Without it a retried write would log the message twice.
 */
export interface CommunicationStore {
  /** Entries for those of `messageIds` that have one. */
  load(messageIds: string[]): Promise<StoredCommunication[]>
  save(entries: StoredCommunication[]): Promise<void>
}

/** An app event type as the app declared it (manifest.json `hubspot.engagementEvents`). */
export interface AppEventType {
  /** Fully qualified name, e.g. `ae3102938_whatsapp_message_sent`. */
  eventTypeName: string
  /** What the type declares; HubSpot rejects an occurrence carrying any other property. */
  properties: readonly { name: string; type: string }[]
}

/** The app event type per engagement kind; kinds left out get no app event. */
export type AppEventTypes = Partial<Record<EngagementKind, AppEventType>>

interface Plan {
  messageId: string
  contactId: string
  communicationId: string | undefined
  activity: MessageActivity
}

export class EngagementWriter {
  readonly #http: HubSpotHttp
  readonly #store: CommunicationStore
  readonly #appEventTypes: AppEventTypes | undefined

  constructor(http: HubSpotHttp, store: CommunicationStore, appEventTypes: AppEventTypes | undefined) {
    this.#http = http
    this.#store = store
    this.#appEventTypes = appEventTypes
  }

  async write(events: readonly EngagementEvent[]): Promise<WriteResult[]> {
    const failedMessages = new Map<string, CrmError>()
    const contactEvents = events.filter((e) => e.objectType === 'contact')
    const byMessage = new Map<string, EngagementEvent[]>()
    for (const event of contactEvents) byMessage.set(event.messageId, [...(byMessage.get(event.messageId) ?? []), event])
    const stored = new Map((byMessage.size > 0 ? await this.#store.load([...byMessage.keys()]) : []).map((s) => [s.messageId, s]))
    const plans = [...byMessage].map(([messageId, group]): Plan => {
      const previous = stored.get(messageId)
      return {
        messageId,
        contactId: group[0]?.recordId ?? '',
        communicationId: previous?.communicationId,
        activity: mergeActivity(parseActivity(previous?.state), group),
      }
    })

    const vanished = await this.#update(plans.filter((p) => p.communicationId !== undefined), failedMessages)
    await this.#create([...plans.filter((p) => p.communicationId === undefined), ...vanished], failedMessages)
    const failedEvents = await this.#sendAppEvents(contactEvents.filter((e) => !failedMessages.has(e.messageId)))

    return events.map((event) => {
      const error = event.objectType !== 'contact' ? notAContact(event.recordId) : (failedMessages.get(event.messageId) ?? failedEvents.get(event.id))
      return error ? { id: event.id, ok: false, error } : { id: event.id, ok: true }
    })
  }

  /** Updates existing communications; returns the plans whose communication was deleted in HubSpot. */
  async #update(plans: Plan[], failed: Map<string, CrmError>): Promise<Plan[]> {
    const vanished: Plan[] = []
    const endpoint = this.#http.endpoint('POST', 'communications', '/batch/update')
    for (const batch of chunks(plans, BATCH_MAX)) {
      const outcome = await withoutNamed(batch, (p) => p.communicationId ?? '', async (rest) => {
        const response = await this.#http.request(endpoint, {
          body: { inputs: rest.map((p) => ({ id: p.communicationId, objectWriteTraceId: p.messageId, properties: properties(p.activity) })) },
        })
        // Inputs refused on their own in a multi-status answer (e.g. a 2026-09+ validation rule) fail alone.
        const refused = batchErrors(endpoint, response.body)
        for (const plan of rest) {
          const error = refused.get(plan.messageId) ?? refused.get(plan.communicationId ?? '')
          if (error) failed.set(plan.messageId, error)
        }
        await this.#remember(rest.filter((p) => !failed.has(p.messageId)))
      })
      for (const [plan, error] of outcome.named) {
        if (error.code === 'NOT_FOUND') vanished.push({ ...plan, communicationId: undefined })
        else failed.set(plan.messageId, error)
      }
      if (outcome.failed) for (const plan of outcome.failed.items) failed.set(plan.messageId, outcome.failed.error)
    }
    return vanished
  }

  async #create(plans: Plan[], failed: Map<string, CrmError>): Promise<void> {
    const endpoint = this.#http.endpoint('POST', 'communications', '/batch/create')
    for (const batch of chunks(plans, BATCH_MAX)) {
      const outcome = await withoutNamed(batch, (p) => p.contactId, async (rest) => {
        const response = await this.#http.request(endpoint, {
          idempotent: false,
          body: {
            inputs: rest.map((p) => ({
              // Labels each result (results are not promised in input order) and turns on 207 partial results.
              objectWriteTraceId: p.messageId,
              properties: { ...properties(p.activity), hs_communication_channel_type: 'WHATS_APP', hs_communication_logged_from: 'CRM' },
              associations: [{ to: { id: p.contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: COMMUNICATION_TO_CONTACT }] }],
            })),
          },
        })
        const body = asRecord(response.body)
        const results = asArray(body.results).map(asRecord)
        // Without trace ids in the answer (the simulator's), results are taken in input order.
        const traced = results.some((r) => r.objectWriteTraceId !== undefined)
        const created: Plan[] = []
        rest.forEach((plan, index) => {
          const result = traced ? results.find((r) => r.objectWriteTraceId === plan.messageId) : results.length === rest.length ? results[index] : undefined
          const id = asString(result?.id)
          if (id) created.push({ ...plan, communicationId: id })
          else failed.set(plan.messageId, batchItemError(endpoint, body, plan.messageId))
        })
        await this.#remember(created)
      })
      for (const [plan, error] of outcome.named) failed.set(plan.messageId, error)
      if (outcome.failed) for (const plan of outcome.failed.items) failed.set(plan.messageId, outcome.failed.error)
    }
  }

  async #remember(plans: Plan[]): Promise<void> {
    if (plans.length === 0) return
    await this.#store.save(plans.map((p) => ({ messageId: p.messageId, communicationId: p.communicationId ?? '', state: serializeActivity(p.activity) })))
  }

  /** Occurrences are immutable and keyed by `id`, so a replay answers 409 CONFLICT: already done. */
  async #sendAppEvents(events: EngagementEvent[]): Promise<Map<string, CrmError>> {
    const failed = new Map<string, CrmError>()
    const types = this.#appEventTypes
    if (!types) return failed
    const endpoint = this.#http.endpoint('POST', 'appEvents', '/events/batch')
    const typed = events.flatMap((e) => {
      const type = types[e.kind]
      return type ? [{ event: e, type }] : []
    })
    for (const batch of chunks(typed, APP_EVENTS_BATCH_MAX)) {
      let body: Record<string, unknown>
      try {
        const response = await this.#http.request(endpoint, {
          body: {
            inputs: batch.map(({ event, type }) => ({
              eventTypeName: type.eventTypeName,
              objectId: event.recordId,
              id: event.id,
              timestamp: event.occurredAt.toISOString(),
              properties: appEventProperties(event, type),
            })),
          },
        })
        body = asRecord(response.body)
      } catch (error) {
        if (!(error instanceof CrmError)) throw error
        for (const { event } of batch) failed.set(event.id, error)
        continue
      }
      const done = new Set(asArray(body.results).flatMap((r) => asString(asRecord(r).id) ?? []))
      for (const raw of asArray(body.errors)) {
        const error = asRecord(raw)
        if (error.category === 'CONFLICT') for (const id of Object.values(asRecord(error.context)).flatMap(asArray)) done.add(String(id))
      }
      for (const { event } of batch) if (!done.has(event.id)) failed.set(event.id, batchItemError(endpoint, body, event.id))
    }
    return failed
  }
}

/** What a communication carries besides its fixed channel and origin. */
function properties(activity: MessageActivity): Record<string, string> {
  return { hs_communication_body: renderActivity(activity), hs_timestamp: firstHappened(activity) }
}

/** The event property each engagement value fills, when the event type declares it. */
const APP_EVENT_VALUES: Record<string, (event: EngagementEvent) => string | number | undefined> = {
  template_name: (e) => e.templateName,
  business_number: (e) => e.businessNumber,
  status: (e) => e.kind,
  message_text: (e) => e.text,
  error_code: (e) => e.errorCode,
  error_title: (e) => e.errorTitle,
}

/** Only properties the type declares (HubSpot rejects others), only present values, numbers as numbers. */
function appEventProperties(event: EngagementEvent, type: AppEventType): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const property of type.properties) {
    const value = APP_EVENT_VALUES[property.name]?.(event)
    if (value === undefined || value === '') continue
    out[property.name] = property.type === 'number' ? Number(value) : String(value)
  }
  return out
}

/** The error a multi-status (207) answer gives for one input, or a generic one. */
function batchItemError(endpoint: string, body: Record<string, unknown>, id: string): CrmError {
  const errors = asArray(body.errors).map(asRecord)
  const mine = errors.find((e) => Object.values(asRecord(e.context)).some((v) => asArray(v).includes(id))) ?? errors[0]
  if (mine) return errorFromResponse({ endpoint, status: 400, body: mine, retryAfter: null })
  return new CrmError({ crm: 'hubspot', code: 'UNKNOWN', message: 'HubSpot did not confirm this write' })
}

function notAContact(recordId: string): CrmError {
  return new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: `HubSpot record ${recordId} must be a contact; HubSpot has no leads object here` })
}
