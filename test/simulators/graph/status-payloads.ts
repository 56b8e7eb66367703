// Builds status webhook bodies in the exact shape of test/fixtures/whatsapp/status_*.json and batch_two_statuses.json.
import { webhookErrorObject } from './graph-errors.ts'

export type StatusName = 'sent' | 'delivered' | 'read' | 'failed'

/** Everything needed to describe one accepted message in its status webhooks. */
export interface MessageContext {
  wamid: string
  wabaId: string
  phoneNumberId: string
  displayPhoneNumber: string
  /** The wa_id of a send by phone. */
  recipientId?: string
  /** The BSUID of a send by user id: statuses carry recipient_user_id instead of recipient_id (reference §9). */
  recipientUserId?: string
  bizOpaqueCallbackData?: string
  conversationId: string
  /** Lowercase pricing/conversation category: marketing, utility, authentication, service. */
  category: string
}

export interface StatusEvent {
  message: MessageContext
  status: StatusName
  /** Set for status 'failed'. */
  errorCode?: number
}

const DAY_SECONDS = 86_400

function unixSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

export function statusObject(event: StatusEvent): Record<string, unknown> {
  const { message, status } = event
  const now = unixSeconds()
  const base: Record<string, unknown> = {
    id: message.wamid,
    status,
    timestamp: String(now),
    ...(message.recipientUserId ? { recipient_user_id: message.recipientUserId } : { recipient_id: message.recipientId }),
    ...(message.bizOpaqueCallbackData === undefined ? {} : { biz_opaque_callback_data: message.bizOpaqueCallbackData }),
  }
  // Failed statuses are not billed: errors[] and no conversation/pricing.
  if (status === 'failed') return { ...base, errors: [webhookErrorObject(event.errorCode ?? 131000)] }
  const service = message.category === 'service'
  return {
    ...base,
    conversation: {
      id: message.conversationId,
      origin: { type: message.category },
      // Meta sends the conversation expiry only with the first status of a conversation.
      ...(status === 'sent' ? { expiration_timestamp: String(now + DAY_SECONDS) } : {}),
    },
    pricing: {
      billable: !service,
      pricing_model: 'PMP',
      type: service ? 'free_customer_service' : 'regular',
      category: message.category,
    },
  }
}

/** One entry[] item per status, which is how Meta batches statuses of different messages into one POST. */
export function statusEnvelope(events: StatusEvent[]): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: events.map((event) => ({
      id: event.message.wabaId,
      changes: [
        {
          value: {
            messaging_product: 'whatsapp',
            metadata: {
              // Webhooks carry the number as digits, unlike the formatted display_phone_number of GET /{phone-number-id}.
              display_phone_number: event.message.displayPhoneNumber.replace(/\D/g, ''),
              phone_number_id: event.message.phoneNumberId,
            },
            statuses: [statusObject(event)],
            // Statuses of a send by user id name the user in contacts[], except failed ones (reference §9).
            ...(event.message.recipientUserId && event.status !== 'failed' ? { contacts: [{ profile: { name: 'Simulated User' }, user_id: event.message.recipientUserId }] } : {}),
          },
          field: 'messages',
        },
      ],
    })),
  }
}
