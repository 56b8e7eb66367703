import type { Queryable } from '../db/database.ts'

export interface WhatsAppNumber {
  id: string
  phoneNumberId: string
  wabaId: string
  /** The business portfolio owning the WABA; the scope of its users' BSUIDs. */
  businessPortfolioId: string
  displayPhoneNumber: string
  verifiedName: string | null
  qualityRating: string | null
  messagesPerSecond: number
  createdAt: string
  updatedAt: string
}

export interface WhatsAppNumberWithToken extends WhatsAppNumber {
  accessTokenSealed: string
}

interface Row {
  id: string
  phone_number_id: string
  waba_id: string
  business_portfolio_id: string
  display_phone_number: string
  verified_name: string | null
  quality_rating: string | null
  messages_per_second: number
  access_token_enc: string
  created_at: Date
  updated_at: Date
}

const COLUMNS = 'id, phone_number_id, waba_id, business_portfolio_id, display_phone_number, verified_name, quality_rating, messages_per_second, access_token_enc, created_at, updated_at'

/**
 * For another repository's query: joins the number `numberId` (an SQL expression) sends from as
 * `n`, whose columns phone_number_id, access_token_enc and messages_per_second a send needs.
 */
export function senderJoinSql(numberId: string): string {
  return `JOIN whatsapp_numbers n ON n.id = ${numberId}`
}

function toNumber(r: Row): WhatsAppNumberWithToken {
  return {
    id: r.id,
    phoneNumberId: r.phone_number_id,
    wabaId: r.waba_id,
    businessPortfolioId: r.business_portfolio_id,
    displayPhoneNumber: r.display_phone_number,
    verifiedName: r.verified_name,
    qualityRating: r.quality_rating,
    messagesPerSecond: r.messages_per_second,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    accessTokenSealed: r.access_token_enc,
  }
}

export function publicNumber(n: WhatsAppNumberWithToken): WhatsAppNumber {
  const { accessTokenSealed: _secret, ...rest } = n
  return rest
}

export interface UpsertNumber {
  phoneNumberId: string
  wabaId: string
  /** When Graph does not name the owner, the WABA stands in for it (its BSUIDs then still match within the WABA). */
  businessPortfolioId?: string
  displayPhoneNumber: string
  verifiedName: string | null
  qualityRating: string | null
  messagesPerSecond: number
  accessTokenSealed: string
}

/** Connecting a number again (new token, new pace) updates it in place: ids stay stable. */
export async function upsertNumber(db: Queryable, n: UpsertNumber): Promise<{ number: WhatsAppNumberWithToken; created: boolean }> {
  const { rows } = await db.query<Row & { created: boolean }>(
    `INSERT INTO whatsapp_numbers (phone_number_id, waba_id, display_phone_number, verified_name, quality_rating, messages_per_second, access_token_enc, business_portfolio_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (phone_number_id) DO UPDATE SET waba_id = EXCLUDED.waba_id, business_portfolio_id = EXCLUDED.business_portfolio_id, display_phone_number = EXCLUDED.display_phone_number,
       verified_name = EXCLUDED.verified_name, quality_rating = EXCLUDED.quality_rating, messages_per_second = EXCLUDED.messages_per_second,
       access_token_enc = EXCLUDED.access_token_enc, updated_at = now()
     RETURNING ${COLUMNS}, (xmax = 0) AS created`,
    [n.phoneNumberId, n.wabaId, n.displayPhoneNumber, n.verifiedName, n.qualityRating, n.messagesPerSecond, n.accessTokenSealed, n.businessPortfolioId ?? n.wabaId],
  )
  const row = rows[0]!
  return { number: toNumber(row), created: row.created }
}

export async function listNumbers(db: Queryable): Promise<WhatsAppNumberWithToken[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM whatsapp_numbers ORDER BY created_at, id`)
  return rows.map(toNumber)
}

export async function findNumber(db: Queryable, id: string): Promise<WhatsAppNumberWithToken | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM whatsapp_numbers WHERE id::text = $1`, [id])
  return rows[0] ? toNumber(rows[0]) : undefined
}

export async function findNumberByPhoneNumberId(db: Queryable, phoneNumberId: string): Promise<WhatsAppNumberWithToken | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM whatsapp_numbers WHERE phone_number_id = $1`, [phoneNumberId])
  return rows[0] ? toNumber(rows[0]) : undefined
}
