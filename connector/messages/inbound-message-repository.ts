import type { Queryable } from '../db/database.ts'
import type { InboundEvent } from '../whatsapp/webhook-payload.ts'

// inbound_messages: what people sent to our numbers, once per wamid.

/** Stores the message; false when Meta had delivered it before. */
export async function recordInboundMessage(db: Queryable, e: InboundEvent): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO inbound_messages (wamid, phone_number_id, from_wa_id, from_user_id, profile_name, type, text, context_wamid, payload, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (wamid) DO NOTHING`,
    [e.wamid, e.phoneNumberId ?? '', e.from ?? null, e.fromUserId ?? null, e.profileName ?? null, e.type, e.text ?? null, e.contextWamid ?? null, JSON.stringify(e.raw), e.occurredAt],
  )
  return rowCount > 0
}
