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

export interface PersonInboundMessage {
  wamid: string
  phoneNumberId: string
  fromWaId: string | null
  fromUserId: string | null
  profileName: string | null
  type: string
  text: string | null
  payload: unknown
  occurredAt: string
}

/** What these senders (wa_ids, BSUIDs) sent to our numbers. */
export async function inboundMessagesFrom(db: Queryable, waIds: readonly string[], userIds: readonly string[]): Promise<PersonInboundMessage[]> {
  const { rows } = await db.query<{ wamid: string; phone_number_id: string; from_wa_id: string | null; from_user_id: string | null; profile_name: string | null; type: string; text: string | null; payload: unknown; occurred_at: Date }>(
    `SELECT wamid, phone_number_id, from_wa_id, from_user_id, profile_name, type, text, payload, occurred_at FROM inbound_messages
     WHERE from_wa_id = ANY($1::text[]) OR from_user_id = ANY($2::text[]) ORDER BY occurred_at, id`,
    [waIds, userIds],
  )
  return rows.map((r) => ({
    wamid: r.wamid, phoneNumberId: r.phone_number_id, fromWaId: r.from_wa_id, fromUserId: r.from_user_id, profileName: r.profile_name,
    type: r.type, text: r.text, payload: r.payload, occurredAt: r.occurred_at.toISOString(),
  }))
}

/** Deletes what these senders sent (bodies, profile names); returns how many messages. */
export async function deleteInboundMessagesFrom(db: Queryable, waIds: readonly string[], userIds: readonly string[]): Promise<number> {
  return (await db.query('DELETE FROM inbound_messages WHERE from_wa_id = ANY($1::text[]) OR from_user_id = ANY($2::text[])', [waIds, userIds])).rowCount
}
