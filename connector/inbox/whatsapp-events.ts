import type { Logger } from 'pino'
import type { Transaction } from '../db/database.ts'
import type { ConsentState } from '../consent/consent-ledger.ts'
import type { KeywordMatcher } from '../consent/keywords.ts'
import { recordInboundMessage } from '../messages/inbound-message-repository.ts'
import { enqueueMessage, recordWebhookStatuses } from '../messages/message-repository.ts'
import { findNumberByPhoneNumberId } from '../numbers/number-repository.ts'
import { updateTemplateStatus } from '../templates/template-repository.ts'
import { waIdToE164 } from '../phones/phone-number.ts'
import { recordConsentAndWriteBack } from '../writeback/consent-writebacks.ts'
import { parseWebhookEvents, type InboundEvent, type StatusEvent, type UserPreferenceEvent } from '../whatsapp/webhook-payload.ts'

// Applies one stored WhatsApp webhook body: statuses onto messages, inbound messages into the
// inbox of conversations, and every opt-out or opt-in signal into the consent ledger and, from
// there, the CRM write-back outbox.

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
    for (const { body, receivedAt } of items) {
      for (const event of parseWebhookEvents(body, receivedAt)) {
        switch (event.kind) {
          case 'status':
            statuses.push(event)
            break
          case 'inbound':
            await handleInbound(tx, event, deps)
            break
          case 'user_preference':
            await handlePreference(tx, event, deps)
            break
          case 'template_status':
            if (event.wabaId) await updateTemplateStatus(tx, event.wabaId, event.templateId, event.event)
            deps.onEvent?.('template_status', event.event)
            break
        }
      }
    }
    await handleStatuses(tx, statuses, deps)
  }
}

async function handleStatuses(tx: Transaction, events: StatusEvent[], deps: WhatsAppEventDeps): Promise<void> {
  const outcomes = await recordWebhookStatuses(tx, events)
  for (const [i, e] of events.entries()) {
    const outcome = outcomes[i]!
    deps.onEvent?.('status', `${e.status}:${outcome}`)
    if (outcome === 'duplicate' || e.status !== 'failed' || !e.recipientId) continue
    const error = e.errors?.find((x) => x.code === MARKETING_OPT_OUT_CODE)
    if (!error) continue
    await recordConsentAndWriteBack(tx, {
      phone: waIdToE164(e.recipientId),
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

async function handleInbound(tx: Transaction, e: InboundEvent, deps: WhatsAppEventDeps): Promise<void> {
  if (!(await recordInboundMessage(tx, e))) return
  deps.onEvent?.('inbound', e.type)
  const intent = inboundIntent(e, deps.keywords)
  if (!intent) return
  const recorded = await recordConsentAndWriteBack(tx, {
    phone: waIdToE164(e.from),
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
    recipient: e.from,
    kind: 'text',
    content: { body: reply, replyTo: e.wamid },
    purpose: 'consent_reply',
  })
}

async function handlePreference(tx: Transaction, e: UserPreferenceEvent, deps: WhatsAppEventDeps): Promise<void> {
  if (e.category && e.category !== 'marketing_messages') return
  const state: ConsentState | undefined = e.value === 'stop' ? 'opted_out' : e.value === 'resume' ? 'opted_in' : undefined
  if (!state) return
  await recordConsentAndWriteBack(tx, {
    phone: waIdToE164(e.waId),
    state,
    source: 'whatsapp_user_preferences',
    evidence: { value: e.value, category: e.category ?? null, detail: e.detail ?? null, phoneNumberId: e.phoneNumberId ?? null },
    occurredAt: e.occurredAt,
    dedupeKey: `wa-pref:${e.waId}:${e.occurredAt.getTime()}:${e.value}`,
  })
  deps.onEvent?.('user_preference', e.value)
}
