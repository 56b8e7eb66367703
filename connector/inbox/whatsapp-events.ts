import type { Logger } from 'pino'
import type { Transaction } from '../db/database.ts'
import type { ConsentState } from '../consent/consent-ledger.ts'
import { replaceUserId } from '../contacts/whatsapp-user-repository.ts'
import type { KeywordMatcher } from '../consent/keywords.ts'
import { recordInboundMessage } from '../messages/inbound-message-repository.ts'
import { enqueueMessage, recordWebhookStatuses } from '../messages/message-repository.ts'
import { findNumberByPhoneNumberId } from '../numbers/number-repository.ts'
import { updateTemplateStatus } from '../templates/template-repository.ts'
import { e164ToWaId } from '../phones/phone-number.ts'
import { parseWebhookEvents, type InboundEvent, type StatusEvent, type UserPreferenceEvent } from '../whatsapp/webhook-payload.ts'
import { UnprocessableBodyError } from './inbox-processor.ts'
import { originResolver, personOf, recordWhatsAppConsent } from './whatsapp-signals.ts'

// Applies one stored WhatsApp webhook body: statuses onto messages, inbound messages into the
// inbox of conversations, and every opt-out or opt-in signal into the consent ledger and, from
// there, the CRM write-back outbox. People are named by phone and/or WhatsApp user id; a signal
// applies to the installations its number serves (whatsapp-signals.ts).

/** Meta's error for a person who stopped marketing messages from this business (reference §2.2). */
export const MARKETING_OPT_OUT_CODE = 131050
/** Quick-reply payload prefix our templates use for their "Stop promotions" button. */
export const OPT_OUT_PAYLOAD_PREFIX = 'STOP_PROMO'

export interface WhatsAppEventDeps {
  keywords: KeywordMatcher
  log: Logger
  optOutReply?: string
  optInReply?: string
  onEvent?: (kind: string, detail: string) => void
}

export function whatsappInboxHandler(deps: WhatsAppEventDeps) {
  return async (tx: Transaction, items: Array<{ body: unknown; receivedAt: Date }>): Promise<void> => {
    const statuses: StatusEvent[] = []
    const originOf = originResolver(tx)
    for (const { body, receivedAt } of items) {
      const events = parseWebhookEvents(body, receivedAt)
      // A signal that names no one cannot be applied; the body is kept with the reason.
      const unidentified = events.flatMap((e) => (e.kind === 'unidentified' ? [e.reason] : []))
      if (unidentified.length) throw new UnprocessableBodyError(`names no one: ${unidentified.join('; ')}`)
      for (const event of events) {
        switch (event.kind) {
          case 'status':
            statuses.push(event)
            break
          case 'inbound':
            await handleInbound(tx, event, originOf, deps)
            break
          case 'user_preference':
            await handlePreference(tx, event, originOf, deps)
            break
          case 'identity': {
            const origin = await originOf(event.phoneNumberId, event.wabaId)
            await personOf(tx, origin, event)
            break
          }
          case 'user_id_change': {
            const origin = await originOf(event.phoneNumberId, event.wabaId)
            await replaceUserId(tx, { businessPortfolioId: origin.businessPortfolioId, previousUserId: event.previousUserId, userId: event.userId, parentUserId: event.parentUserId })
            deps.onEvent?.('user_id_change', 'replaced')
            break
          }
          case 'template_status':
            if (event.wabaId) await updateTemplateStatus(tx, event.wabaId, event.templateId, event.event)
            deps.onEvent?.('template_status', event.event)
            break
        }
      }
    }
    await handleStatuses(tx, statuses, originOf, deps)
  }
}

type Origins = ReturnType<typeof originResolver>

async function handleStatuses(tx: Transaction, events: StatusEvent[], originOf: Origins, deps: WhatsAppEventDeps): Promise<void> {
  const outcomes = await recordWebhookStatuses(tx, events)
  for (const [i, e] of events.entries()) {
    const outcome = outcomes[i]!
    deps.onEvent?.('status', `${e.status}:${outcome}`)
    if (outcome === 'duplicate') continue
    const origin = await originOf(e.phoneNumberId, e.wabaId)
    const person = e.recipientId || e.recipientUserId
      ? await personOf(tx, origin, { waId: e.recipientId, userId: e.recipientUserId, parentUserId: e.recipientParentUserId })
      : undefined
    if (!person || e.status !== 'failed') continue
    const error = e.errors?.find((x) => x.code === MARKETING_OPT_OUT_CODE)
    if (!error) continue
    await recordWhatsAppConsent(tx, origin, person, {
      state: 'opted_out',
      source: 'whatsapp_error_131050',
      evidence: { wamid: e.wamid, code: error.code, title: error.title ?? error.message ?? null, phoneNumberId: e.phoneNumberId ?? null },
      occurredAt: e.occurredAt,
      dedupeKey: `wa-status:${e.wamid}:failed`,
    })
  }
}

function inboundIntent(e: InboundEvent, keywords: KeywordMatcher): { state: ConsentState; source: string } | undefined {
  if (e.type === 'button' && e.buttonPayload?.toUpperCase().startsWith(OPT_OUT_PAYLOAD_PREFIX)) {
    return { state: 'opted_out', source: 'whatsapp_opt_out_button' }
  }
  const intent = keywords.match(e.text)
  if (!intent) return undefined
  const via = e.type === 'button' || e.type === 'interactive' ? 'button' : 'keyword'
  return intent === 'opt_out' ? { state: 'opted_out', source: `whatsapp_${via}` } : { state: 'opted_in', source: `whatsapp_${via}` }
}

async function handleInbound(tx: Transaction, e: InboundEvent, originOf: Origins, deps: WhatsAppEventDeps): Promise<void> {
  if (!(await recordInboundMessage(tx, e))) return
  deps.onEvent?.('inbound', e.type)
  const origin = await originOf(e.phoneNumberId, e.wabaId)
  const person = await personOf(tx, origin, { waId: e.from, userId: e.fromUserId, parentUserId: e.fromParentUserId, username: e.username })
  const intent = inboundIntent(e, deps.keywords)
  if (!intent) return
  const recorded = await recordWhatsAppConsent(tx, origin, person, {
    state: intent.state,
    source: intent.source,
    evidence: { wamid: e.wamid, text: e.text ?? null, buttonPayload: e.buttonPayload ?? null, contextWamid: e.contextWamid ?? null, phoneNumberId: e.phoneNumberId ?? null },
    occurredAt: e.occurredAt,
    dedupeKey: `wa-msg:${e.wamid}`,
  })
  const reply = intent.state === 'opted_out' ? deps.optOutReply : deps.optInReply
  if (!recorded || !reply || !e.phoneNumberId) return
  const number = await findNumberByPhoneNumberId(tx, e.phoneNumberId)
  if (!number) return
  await enqueueMessage(tx, {
    idempotencyKey: `consent-reply:${e.wamid}`,
    numberId: number.id,
    // The phone when known, else the user id (the dispatcher sends it as `recipient`).
    recipient: person.phone ? e164ToWaId(person.phone) : e.fromUserId!,
    kind: 'text',
    content: { body: reply, replyTo: e.wamid },
    purpose: 'consent_reply',
  })
}

async function handlePreference(tx: Transaction, e: UserPreferenceEvent, originOf: Origins, deps: WhatsAppEventDeps): Promise<void> {
  const origin = await originOf(e.phoneNumberId, e.wabaId)
  const person = await personOf(tx, origin, { waId: e.waId, userId: e.userId })
  if (e.category && e.category !== 'marketing_messages') return
  const state: ConsentState | undefined = e.value === 'stop' ? 'opted_out' : e.value === 'resume' ? 'opted_in' : undefined
  if (!state) return
  await recordWhatsAppConsent(tx, origin, person, {
    state,
    source: 'whatsapp_user_preferences',
    evidence: { value: e.value, category: e.category ?? null, detail: e.detail ?? null, phoneNumberId: e.phoneNumberId ?? null },
    occurredAt: e.occurredAt,
    dedupeKey: `wa-pref:${e.waId ?? e.userId}:${e.occurredAt.getTime()}:${e.value}`,
  })
  deps.onEvent?.('user_preference', e.value)
}
