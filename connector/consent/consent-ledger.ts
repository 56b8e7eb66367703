import type { Queryable } from '../db/database.ts'
import { currentUserJoinSql, personUserRowsSql, userIdOfRowSql } from '../contacts/whatsapp-user-repository.ts'
import { isPersonHashOfSql } from '../people/person-hash-key.ts'
import { waIdToE164 } from '../phones/phone-number.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'
import { isBsuid } from '../whatsapp/bsuid.ts'

// The append-only consent ledger. The current state of a phone is its latest event; at equal
// times an opt-out wins, so "opt-out wins over an older opt-in" holds whatever order signals
// arrive in. Events without an installation come from WhatsApp and apply to every installation.
// Phones are matched by their WhatsApp match key, so a wa_id in an older national form (Brazil's
// ninth digit, Mexico's and Argentina's mobile prefixes) finds the CRM's number. A person known
// to WhatsApp only by business-scoped user id has events keyed by that user (whatsapp_users); a
// person's events are those carrying their phone's match key or any of their WhatsApp users.

export type ConsentState = 'opted_in' | 'opted_out'
export type ConsentStatus = ConsentState | 'unknown'

/** Who a consent event or a lookup is about: a phone, a WhatsApp user (whatsapp_users.id), or both. */
export interface Person {
  phone?: string | null
  whatsappUserId?: string | null
}

/** An event about a phone (every CRM and most WhatsApp signals). */
export interface ConsentEventInput {
  phone: string
  /** The WhatsApp user the signal also named, when it carried a user id. */
  whatsappUserId?: string | null
  installationId?: string | null
  state: ConsentState
  source: string
  evidence: Record<string, unknown>
  occurredAt: Date
  /** Makes a redelivered signal a no-op (e.g. "wa-msg:<wamid>"). */
  dedupeKey?: string
}

/** An event about a person named by phone, by WhatsApp user, or both (a user who hides their phone). */
export type PersonConsentEventInput = Omit<ConsentEventInput, 'phone'> & Person

export interface ConsentEvent {
  state: ConsentState
  source: string
  evidence: Record<string, unknown>
  occurredAt: string
  recordedAt: string
  installationId: string | null
}

interface EventRow {
  state: ConsentState
  source: string
  evidence: Record<string, unknown>
  occurred_at: Date
  recorded_at: Date
  installation_id: string | null
}

/** The one current-state rule: latest by source time, an opt-out wins a tie, then the later row. */
const latestFirst = (e: string) => `${e}.occurred_at DESC, (${e}.state = 'opted_out') DESC, ${e}.id DESC`

/** Events that speak for an installation: its own and WhatsApp's (installation NULL); a NULL installation reads all. */
const appliesTo = (e: string, installation: string) => `(${installation} IS NULL OR ${e}.installation_id IS NULL OR ${e}.installation_id = ${installation})`

/**
 * The events of one person: by the phone's match key (plain, or as erasure hashed it, so an erased
 * opt-out still holds for the same phone), or by any WhatsApp user row of theirs.
 */
const ofPerson = (e: string, matchKey: string, userRef: string) =>
  `(${e}.match_key = ${matchKey} OR ${isPersonHashOfSql(`${e}.match_key`, matchKey)} OR ${e}.whatsapp_user_id IN (${personUserRowsSql(matchKey, userRef)}))`

/**
 * A scalar SQL expression: the current state of the recipient whose match key is `matchKey` (and,
 * optionally, whose WhatsApp user row is `userRef`), for `installation` (SQL expressions, e.g. column
 * names or parameters; NULL allowed), NULL when it has no events. Other repositories compose it into
 * their reads; it is index probes per row (consent_events_match_key, whatsapp_users_match_key,
 * consent_events_whatsapp_user), so their plans stay set-wise.
 */
export function currentConsentSql(matchKey: string, installation: string, userRef = 'NULL::uuid'): string {
  return currentEventSql(matchKey, installation, userRef, 'e.state')
}

/** The event that decides the current state (as currentConsentSql), `columns` of it: a subquery of one row or none. */
function currentEventSql(matchKey: string, installation: string, userRef: string, columns: string): string {
  return `(SELECT ${columns} FROM consent_events e WHERE ${ofPerson('e', matchKey, userRef)} AND ${appliesTo('e', installation)}
    ORDER BY ${latestFirst('e')} LIMIT 1)`
}

const keyOf = (p: Person): string | null => (p.phone ? whatsappMatchKey(p.phone) : null)
const asPerson = (p: string | Person): Person => (typeof p === 'string' ? { phone: p } : p)

/** Returns true when the event was new, false when its dedupe key was already recorded. */
export async function recordConsentEvent(db: Queryable, e: PersonConsentEventInput): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO consent_events (phone, match_key, whatsapp_user_id, installation_id, state, source, evidence, occurred_at, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING`,
    [e.phone ?? null, keyOf(e), e.whatsappUserId ?? null, e.installationId ?? null, e.state, e.source, JSON.stringify(e.evidence), e.occurredAt, e.dedupeKey ?? null],
  )
  return rowCount > 0
}

/** Records several events in one statement; returns how many were new. */
export async function recordConsentEvents(db: Queryable, events: ConsentEventInput[]): Promise<number> {
  if (!events.length) return 0
  const { rowCount } = await db.query(
    `INSERT INTO consent_events (phone, match_key, whatsapp_user_id, installation_id, state, source, evidence, occurred_at, dedupe_key)
     SELECT * FROM unnest($1::text[], $2::text[], $9::uuid[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[], $8::text[])
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [
      events.map((e) => e.phone ?? null), events.map(keyOf), events.map((e) => e.installationId ?? null),
      events.map((e) => e.state), events.map((e) => e.source), events.map((e) => JSON.stringify(e.evidence)),
      events.map((e) => e.occurredAt), events.map((e) => e.dedupeKey ?? null), events.map((e) => e.whatsappUserId ?? null),
    ],
  )
  return rowCount
}

export async function consentHistory(db: Queryable, person: string | Person, installationId?: string): Promise<ConsentEvent[]> {
  const p = asPerson(person)
  const { rows } = await db.query<EventRow>(
    `SELECT e.state, e.source, e.evidence, e.occurred_at, e.recorded_at, e.installation_id FROM consent_events e
     WHERE ${ofPerson('e', '$1::text', '$3::uuid')} AND ${appliesTo('e', '$2::uuid')}
     ORDER BY ${latestFirst('e')}`,
    [keyOf(p), installationId ?? null, p.whatsappUserId ?? null],
  )
  return rows.map((r) => ({
    state: r.state,
    source: r.source,
    evidence: r.evidence,
    occurredAt: r.occurred_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    installationId: r.installation_id,
  }))
}

/** consentHistory lists events by the current-state rule, so its first event is the current state. */
export function currentState(history: ConsentEvent[]): ConsentStatus {
  return history[0]?.state ?? 'unknown'
}

export async function consentStatus(db: Queryable, person: string | Person, installationId?: string): Promise<ConsentStatus> {
  const p = asPerson(person)
  const { rows } = await db.query<{ state: ConsentState | null }>(`SELECT ${currentConsentSql('$1::text', '$2::uuid', '$3::uuid')} AS state`, [keyOf(p), installationId ?? null, p.whatsappUserId ?? null])
  return rows[0]?.state ?? 'unknown'
}

/** The current state of several phones for one installation (or all), in one statement; keyed by phone. */
export async function consentStatuses(db: Queryable, phones: readonly string[], installationId?: string | null): Promise<Map<string, ConsentStatus>> {
  const unique = [...new Set(phones)]
  const byKey = await consentStatusesOfKeys(db, unique.map(whatsappMatchKey), installationId)
  return new Map(unique.map((phone) => [phone, byKey.get(whatsappMatchKey(phone)) ?? 'unknown']))
}

/**
 * The current state (all installations) of message recipients as the messages table holds them:
 * wa_ids, or BSUIDs for people known only by user id; keyed by recipient.
 */
export async function consentStatusesOfRecipients(db: Queryable, recipients: readonly string[]): Promise<Map<string, ConsentStatus>> {
  const unique = [...new Set(recipients)]
  const userIds = unique.filter(isBsuid)
  const byPhone = await consentStatuses(db, unique.filter((r) => !isBsuid(r)).map(waIdToE164))
  const out = new Map(unique.filter((r) => !isBsuid(r)).map((r) => [r, byPhone.get(waIdToE164(r)) ?? 'unknown'] as const))
  if (userIds.length) {
    const { rows } = await db.query<{ user_id: string; state: ConsentState | null }>(
      `SELECT r.user_id, ${currentConsentSql('u.match_key', 'NULL::uuid', 'u.id')} AS state FROM unnest($1::text[]) AS r(user_id) ${currentUserJoinSql('r.user_id', 'u')}`,
      [userIds],
    )
    for (const r of rows) out.set(r.user_id, r.state ?? 'unknown')
  }
  return out
}

/** As consentStatuses, for callers that already hold the match keys (a sync page); keyed by match key. */
export async function consentStatusesOfKeys(db: Queryable, matchKeys: readonly string[], installationId?: string | null): Promise<Map<string, ConsentStatus>> {
  const unique = [...new Set(matchKeys)]
  if (!unique.length) return new Map()
  const { rows } = await db.query<{ match_key: string; state: ConsentState | null }>(
    `SELECT k.match_key, ${currentConsentSql('k.match_key', '$2::uuid')} AS state FROM unnest($1::text[]) AS k(match_key)`,
    [unique, installationId ?? null],
  )
  return new Map(rows.map((r) => [r.match_key, r.state ?? 'unknown']))
}

/** A current state with the source time and source of the event that decides it. */
export interface CurrentConsent {
  state: ConsentState
  occurredAt: Date
  source: string
}

/**
 * As consentStatusesOfKeys, with the deciding event's source time and source (what a CRM record
 * is written with); keys without events are absent. One statement for the whole set.
 */
export async function currentConsentsOfKeys(db: Queryable, matchKeys: readonly string[], installationId?: string | null): Promise<Map<string, CurrentConsent>> {
  const unique = [...new Set(matchKeys)]
  if (!unique.length) return new Map()
  const { rows } = await db.query<{ match_key: string; state: ConsentState; occurred_at: Date; source: string }>(
    `SELECT k.match_key, c.state, c.occurred_at, c.source FROM unnest($1::text[]) AS k(match_key)
     CROSS JOIN LATERAL ${currentEventSql('k.match_key', '$2::uuid', 'NULL::uuid', 'e.state, e.occurred_at, e.source')} AS c`,
    [unique, installationId ?? null],
  )
  return new Map(rows.map((r) => [r.match_key, { state: r.state, occurredAt: r.occurred_at, source: r.source }]))
}

/** The current state of one person in each of several installations, in one statement; keyed by installation id. */
export async function consentStatusByInstallation(db: Queryable, person: string | Person, installationIds: readonly string[]): Promise<Map<string, ConsentStatus>> {
  if (!installationIds.length) return new Map()
  const p = asPerson(person)
  const { rows } = await db.query<{ installation_id: string; state: ConsentState | null }>(
    `SELECT i.installation_id, ${currentConsentSql('$1::text', 'i.installation_id', '$3::uuid')} AS state FROM unnest($2::uuid[]) AS i(installation_id)`,
    [keyOf(p), installationIds, p.whatsappUserId ?? null],
  )
  return new Map(rows.map((r) => [r.installation_id, r.state ?? 'unknown']))
}

/** The installations that hold consent events for this person. */
export async function installationsWithConsent(db: Queryable, person: Person): Promise<string[]> {
  const { rows } = await db.query<{ installation_id: string }>(
    `SELECT DISTINCT e.installation_id FROM consent_events e WHERE ${ofPerson('e', '$1::text', '$2::uuid')} AND e.installation_id IS NOT NULL`,
    [keyOf(person), person.whatsappUserId ?? null],
  )
  return rows.map((r) => r.installation_id)
}

export interface ConsentLogRow {
  id: string
  state: ConsentState
  source: string
  occurredAt: Date
  recordedAt: Date
  installationId: string | null
  /** The phone, or the WhatsApp user id of an event about a user whose phone is not known. */
  phoneOrUserId: string | null
  evidence: Record<string, unknown>
}

/** Events a consent export reads per query: the most it ever holds of the log. */
export const CONSENT_LOG_PAGE_SIZE = 1000

/**
 * The consent log in the order it was recorded, recorded in [from, to) (either open), one page of
 * `pageSize` events at a time by keyset on (recorded_at, id) (index consent_events_recorded), so
 * any range is read in constant memory and without a long transaction.
 */
export async function* consentLogPages(db: Queryable, range: { from?: Date; to?: Date }, pageSize = CONSENT_LOG_PAGE_SIZE): AsyncGenerator<ConsentLogRow[]> {
  // The cursor keeps recorded_at as PostgreSQL's text: a JS Date would drop its microseconds.
  let after: { recorded: string; id: string } | undefined
  for (;;) {
    const { rows } = await db.query<{ id: string; state: ConsentState; source: string; occurred_at: Date; recorded_at: Date; recorded_key: string; installation_id: string | null; person: string | null; evidence: Record<string, unknown> }>(
      `SELECT e.id::text AS id, e.state, e.source, e.occurred_at, e.recorded_at, e.recorded_at::text AS recorded_key, e.installation_id,
              COALESCE(e.phone, ${userIdOfRowSql('e.whatsapp_user_id')}) AS person, e.evidence
       FROM consent_events e
       WHERE ($1::timestamptz IS NULL OR e.recorded_at >= $1) AND ($2::timestamptz IS NULL OR e.recorded_at < $2)
         AND ($3::timestamptz IS NULL OR (e.recorded_at, e.id) > ($3::timestamptz, $4::bigint))
       ORDER BY e.recorded_at, e.id LIMIT $5`,
      [range.from ?? null, range.to ?? null, after?.recorded ?? null, after?.id ?? null, pageSize],
    )
    if (!rows.length) return
    const last = rows[rows.length - 1]!
    after = { recorded: last.recorded_key, id: last.id }
    yield rows.map((r) => ({
      id: r.id, state: r.state, source: r.source, occurredAt: r.occurred_at, recordedAt: r.recorded_at, installationId: r.installation_id, phoneOrUserId: r.person, evidence: r.evidence,
    }))
    if (rows.length < pageSize) return
  }
}

/** A consent event as the person export shows it: with the phone and match key it holds (hashed once erased). */
export interface PersonConsentEvent extends ConsentEvent {
  phone: string | null
  matchKey: string | null
}

/** Every event of a person, by the current-state rule's order, with the identity columns as stored. */
export async function consentEventsOfPerson(db: Queryable, person: Person): Promise<PersonConsentEvent[]> {
  const { rows } = await db.query<EventRow & { phone: string | null; match_key: string | null }>(
    `SELECT e.state, e.source, e.evidence, e.occurred_at, e.recorded_at, e.installation_id, e.phone, e.match_key FROM consent_events e
     WHERE ${ofPerson('e', '$1::text', '$2::uuid')} ORDER BY ${latestFirst('e')}`,
    [keyOf(person), person.whatsappUserId ?? null],
  )
  return rows.map((r) => ({
    state: r.state, source: r.source, evidence: r.evidence, occurredAt: r.occurred_at.toISOString(), recordedAt: r.recorded_at.toISOString(),
    installationId: r.installation_id, phone: r.phone, matchKey: r.match_key,
  }))
}

/**
 * Replaces the phone and match key of a person's events by their person_hash (the one change the
 * log's trigger allows); the events stay, so an opt-out keeps holding. Returns the events changed.
 * Runs before the person's WhatsApp users are erased, since it finds events through them.
 */
export async function hashConsentIdentities(db: Queryable, person: Person): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE consent_events e SET
       phone = CASE WHEN e.phone IS NULL OR e.phone LIKE 'erased:%' THEN e.phone ELSE person_hash(e.phone) END,
       match_key = CASE WHEN e.match_key IS NULL OR e.match_key LIKE 'erased:%' THEN e.match_key ELSE person_hash(e.match_key) END
     WHERE ${ofPerson('e', '$1::text', '$2::uuid')} AND (e.phone NOT LIKE 'erased:%' OR e.match_key NOT LIKE 'erased:%')`,
    [keyOf(person), person.whatsappUserId ?? null],
  )
  return rowCount
}
