import type { Queryable } from '../db/database.ts'
import { isPersonHashOfSql } from '../people/person-hash-key.ts'
import { waIdToE164 } from '../phones/phone-number.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'

// whatsapp_users: people as WhatsApp names them to a business portfolio, by business-scoped user id
// (BSUID), with their phone once a webhook carried both (reference whatsapp.md §9). The only module
// that reads or writes the table; other modules compose personUserRowsSql.

export interface WhatsAppUser {
  /** Our id of the row (what consent events reference). */
  id: string
  businessPortfolioId: string
  userId: string
  parentUserId: string | null
  /** E.164, when known. */
  phone: string | null
  matchKey: string | null
  username: string | null
}

export interface UserSignal {
  businessPortfolioId: string
  userId: string
  parentUserId?: string | undefined
  /** A wa_id or E.164 number carried with the user id. */
  phone?: string | undefined
  username?: string | undefined
}

interface Row {
  id: string
  business_portfolio_id: string
  user_id: string
  parent_user_id: string | null
  phone: string | null
  match_key: string | null
  username: string | null
}

const COLUMNS = 'u.id, u.business_portfolio_id, u.user_id, u.parent_user_id, u.phone, u.match_key, u.username'

const toUser = (r: Row): WhatsAppUser => ({
  id: r.id, businessPortfolioId: r.business_portfolio_id, userId: r.user_id, parentUserId: r.parent_user_id,
  phone: r.phone, matchKey: r.match_key, username: r.username,
})

/**
 * A subquery (SQL) of the whatsapp_users row ids whose consent events speak for a person: the rows
 * whose phone has match key `matchKey` or whose id is `userRef` (SQL expressions, either may be
 * NULL), the rows they replaced, and the erased rows of the same phone or user id (erasure keeps
 * the row with both hashed, so the events behind it still count).
 */
export function personUserRowsSql(matchKey: string, userRef: string): string {
  return `SELECT m.id FROM whatsapp_users p JOIN whatsapp_users m ON m.id = p.id OR m.successor_id = p.id
    WHERE p.successor_id IS NULL AND (p.match_key = ${matchKey} OR p.id = ${userRef} OR ${isPersonHashOfSql('p.match_key', matchKey)}
      OR ${isPersonHashOfSql('p.user_id', `(SELECT r.user_id FROM whatsapp_users r WHERE r.id = ${userRef})`)})`
}

/**
 * For another repository's query: LEFT JOINs as `alias` the current whatsapp_users row behind the
 * BSUID `userId` (an SQL expression); its columns id and match_key are NULL for an unknown id.
 */
export function currentUserJoinSql(userId: string, alias: string): string {
  return `LEFT JOIN whatsapp_users ${alias}_named ON ${alias}_named.user_id = ${userId}
    LEFT JOIN whatsapp_users ${alias} ON ${alias}.id = COALESCE(${alias}_named.successor_id, ${alias}_named.id)`
}

/** A scalar SQL expression: the BSUID of the whatsapp_users row `rowId` (an SQL expression), as that row holds it. */
export function userIdOfRowSql(rowId: string): string {
  return `(SELECT u.user_id FROM whatsapp_users u WHERE u.id = ${rowId})`
}

/** The current row for a BSUID in a portfolio: a replaced BSUID leads to its successor. */
async function currentRow(db: Queryable, portfolio: string, userId: string): Promise<Row | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM whatsapp_users o JOIN whatsapp_users u ON u.id = COALESCE(o.successor_id, o.id)
     WHERE o.business_portfolio_id = $1 AND o.user_id = $2`,
    [portfolio, userId],
  )
  return rows[0]
}

/**
 * Records that a webhook named this user, linking the phone when it came along (idempotent). A phone
 * belongs to one current user per portfolio, so linking it moves it off any other row.
 */
export async function linkWhatsAppUser(db: Queryable, s: UserSignal): Promise<WhatsAppUser> {
  await db.query(
    `INSERT INTO whatsapp_users (business_portfolio_id, user_id) VALUES ($1, $2) ON CONFLICT (business_portfolio_id, user_id) DO NOTHING`,
    [s.businessPortfolioId, s.userId],
  )
  const row = (await currentRow(db, s.businessPortfolioId, s.userId))!
  const phone = s.phone ? waIdToE164(s.phone) : null
  const matchKey = phone ? whatsappMatchKey(phone) : null
  if (matchKey && matchKey !== row.match_key) {
    await db.query('UPDATE whatsapp_users SET phone = NULL, match_key = NULL, updated_at = now() WHERE business_portfolio_id = $1 AND match_key = $2 AND id <> $3', [s.businessPortfolioId, matchKey, row.id])
  }
  const { rows } = await db.query<Row>(
    `UPDATE whatsapp_users u SET phone = COALESCE($2, u.phone), match_key = COALESCE($3, u.match_key),
       username = COALESCE($4, u.username), parent_user_id = COALESCE($5, u.parent_user_id), updated_at = now()
     WHERE u.id = $1 RETURNING ${COLUMNS}`,
    [row.id, phone, matchKey, s.username ?? null, s.parentUserId ?? null],
  )
  return toUser(rows[0]!)
}

/**
 * A `user_changed_user_id` system message: the person now has `userId`. The row of the previous id
 * points at the new one (its phone and username move along), so signals under either id, and the
 * consent events recorded under the old one, find the same person. Idempotent, in any order.
 */
export async function replaceUserId(db: Queryable, c: { businessPortfolioId: string; previousUserId: string; userId: string; parentUserId?: string | undefined }): Promise<WhatsAppUser> {
  const next = await linkWhatsAppUser(db, { businessPortfolioId: c.businessPortfolioId, userId: c.userId, parentUserId: c.parentUserId })
  const old = await currentRow(db, c.businessPortfolioId, c.previousUserId)
  if (!old) {
    await db.query(
      `INSERT INTO whatsapp_users (business_portfolio_id, user_id, successor_id) VALUES ($1, $2, $3) ON CONFLICT (business_portfolio_id, user_id) DO NOTHING`,
      [c.businessPortfolioId, c.previousUserId, next.id],
    )
    return next
  }
  if (old.id === next.id) return next
  await db.query('UPDATE whatsapp_users SET successor_id = $2, phone = NULL, match_key = NULL, updated_at = now() WHERE id = $1 OR successor_id = $1', [old.id, next.id])
  return linkWhatsAppUser(db, {
    businessPortfolioId: c.businessPortfolioId, userId: c.userId,
    phone: next.phone ?? old.phone ?? undefined, username: next.username ?? old.username ?? undefined,
  })
}

/** The current user behind a BSUID in a portfolio. */
export async function findWhatsAppUser(db: Queryable, businessPortfolioId: string, userId: string): Promise<WhatsAppUser | undefined> {
  const row = await currentRow(db, businessPortfolioId, userId)
  return row && toUser(row)
}

/** The current user behind a BSUID in whichever portfolio issued it (BSUIDs carry 128 random characters). */
export async function findWhatsAppUserById(db: Queryable, userId: string): Promise<WhatsAppUser | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM whatsapp_users o JOIN whatsapp_users u ON u.id = COALESCE(o.successor_id, o.id) WHERE o.user_id = $1 ORDER BY o.created_at LIMIT 1`,
    [userId],
  )
  return rows[0] && toUser(rows[0])
}

/**
 * The BSUIDs the connector knows for a phone, one per business portfolio: what the CRM write-back
 * stores on a record with this phone (HubSpot `whatsapp_bsuid`, Salesforce `WhatsApp_BSUID__c`).
 */
export async function userIdsForPhone(db: Queryable, phone: string): Promise<Array<{ businessPortfolioId: string; userId: string }>> {
  const { rows } = await db.query<{ business_portfolio_id: string; user_id: string }>(
    'SELECT business_portfolio_id, user_id FROM whatsapp_users WHERE match_key = $1 AND successor_id IS NULL ORDER BY business_portfolio_id',
    [whatsappMatchKey(phone)],
  )
  return rows.map((r) => ({ businessPortfolioId: r.business_portfolio_id, userId: r.user_id }))
}

/** Every whatsapp_users row of a person (as personUserRowsSql finds them), for the export. */
export async function whatsAppUsersOfPerson(db: Queryable, matchKey: string | null, userRef: string | null): Promise<WhatsAppUser[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM whatsapp_users u WHERE u.id IN (${personUserRowsSql('$1::text', '$2::uuid')}) ORDER BY u.created_at`, [matchKey, userRef])
  return rows.map(toUser)
}

/**
 * Erases the identities of a person's rows: user id and match key become their person_hash, phone,
 * username and parent id are dropped. The rows stay, as the consent events behind them do.
 */
export async function eraseWhatsAppUsers(db: Queryable, ids: readonly string[]): Promise<number> {
  if (!ids.length) return 0
  const { rowCount } = await db.query(
    `UPDATE whatsapp_users SET user_id = CASE WHEN user_id LIKE 'erased:%' THEN user_id ELSE person_hash(user_id) END,
       match_key = CASE WHEN match_key IS NULL OR match_key LIKE 'erased:%' THEN match_key ELSE person_hash(match_key) END,
       phone = NULL, username = NULL, parent_user_id = NULL, updated_at = now()
     WHERE id = ANY($1::uuid[])`,
    [ids],
  )
  return rowCount
}
