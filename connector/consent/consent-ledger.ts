import type { Queryable } from '../db/database.ts'
import { whatsappMatchKey } from '../phones/whatsapp-id.ts'

// The append-only consent ledger. The current state of a phone is its latest event; at equal
// times an opt-out wins, so "opt-out wins over an older opt-in" holds whatever order signals
// arrive in. Events without an installation come from WhatsApp and apply to every installation.
// Phones are matched by their WhatsApp match key, so a wa_id in an older national form (Brazil's
// ninth digit, Mexico's and Argentina's mobile prefixes) finds the CRM's number.

export type ConsentState = 'opted_in' | 'opted_out'
export type ConsentStatus = ConsentState | 'unknown'

export interface ConsentEventInput {
  phone: string
  installationId?: string | null
  state: ConsentState
  source: string
  evidence: Record<string, unknown>
  occurredAt: Date
  /** Makes a redelivered signal a no-op (e.g. "wa-msg:<wamid>"). */
  dedupeKey?: string
}

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
 * A scalar SQL expression: the current state of the recipient whose match key is `matchKey`, for
 * `installation` (both SQL expressions, e.g. column names or parameters), NULL when it has no events.
 * Other repositories compose it into their reads; it is one index probe per row
 * (consent_events_match_key), so their plans stay set-wise.
 */
export function currentConsentSql(matchKey: string, installation: string): string {
  return `(SELECT e.state FROM consent_events e WHERE e.match_key = ${matchKey} AND ${appliesTo('e', installation)}
    ORDER BY ${latestFirst('e')} LIMIT 1)`
}

/** Returns true when the event was new, false when its dedupe key was already recorded. */
export async function recordConsentEvent(db: Queryable, e: ConsentEventInput): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO consent_events (phone, match_key, installation_id, state, source, evidence, occurred_at, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING`,
    [e.phone, whatsappMatchKey(e.phone), e.installationId ?? null, e.state, e.source, JSON.stringify(e.evidence), e.occurredAt, e.dedupeKey ?? null],
  )
  return rowCount > 0
}

/** Records several events in one statement; returns how many were new. */
export async function recordConsentEvents(db: Queryable, events: ConsentEventInput[]): Promise<number> {
  if (!events.length) return 0
  const { rowCount } = await db.query(
    `INSERT INTO consent_events (phone, match_key, installation_id, state, source, evidence, occurred_at, dedupe_key)
     SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[], $8::text[])
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [
      events.map((e) => e.phone), events.map((e) => whatsappMatchKey(e.phone)), events.map((e) => e.installationId ?? null),
      events.map((e) => e.state), events.map((e) => e.source), events.map((e) => JSON.stringify(e.evidence)),
      events.map((e) => e.occurredAt), events.map((e) => e.dedupeKey ?? null),
    ],
  )
  return rowCount
}

export async function consentHistory(db: Queryable, phone: string, installationId?: string): Promise<ConsentEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT e.state, e.source, e.evidence, e.occurred_at, e.recorded_at, e.installation_id FROM consent_events e
     WHERE e.match_key = $1 AND ${appliesTo('e', '$2::uuid')}
     ORDER BY ${latestFirst('e')}`,
    [whatsappMatchKey(phone), installationId ?? null],
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

export async function consentStatus(db: Queryable, phone: string, installationId?: string): Promise<ConsentStatus> {
  const { rows } = await db.query<{ state: ConsentState | null }>(`SELECT ${currentConsentSql('$1', '$2::uuid')} AS state`, [whatsappMatchKey(phone), installationId ?? null])
  return rows[0]?.state ?? 'unknown'
}

/** The current state of several phones for one installation (or all), in one statement; keyed by phone. */
export async function consentStatuses(db: Queryable, phones: readonly string[], installationId?: string | null): Promise<Map<string, ConsentStatus>> {
  const unique = [...new Set(phones)]
  const byKey = await consentStatusesOfKeys(db, unique.map(whatsappMatchKey), installationId)
  return new Map(unique.map((phone) => [phone, byKey.get(whatsappMatchKey(phone)) ?? 'unknown']))
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

/** The current state of one phone in each of several installations, in one statement; keyed by installation id. */
export async function consentStatusByInstallation(db: Queryable, phone: string, installationIds: readonly string[]): Promise<Map<string, ConsentStatus>> {
  if (!installationIds.length) return new Map()
  const { rows } = await db.query<{ installation_id: string; state: ConsentState | null }>(
    `SELECT i.installation_id, ${currentConsentSql('$1', 'i.installation_id')} AS state FROM unnest($2::uuid[]) AS i(installation_id)`,
    [whatsappMatchKey(phone), installationIds],
  )
  return new Map(rows.map((r) => [r.installation_id, r.state ?? 'unknown']))
}

/** The installations that hold consent events for this match key. */
export async function installationsWithConsent(db: Queryable, matchKey: string): Promise<string[]> {
  const { rows } = await db.query<{ installation_id: string }>('SELECT DISTINCT installation_id FROM consent_events WHERE match_key = $1 AND installation_id IS NOT NULL', [matchKey])
  return rows.map((r) => r.installation_id)
}

export interface ConsentLogRow {
  id: string
  state: ConsentState
  source: string
  occurredAt: Date
  recordedAt: Date
  installationId: string | null
  phone: string
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
    const { rows } = await db.query<{ id: string; state: ConsentState; source: string; occurred_at: Date; recorded_at: Date; recorded_key: string; installation_id: string | null; phone: string; evidence: Record<string, unknown> }>(
      `SELECT e.id::text AS id, e.state, e.source, e.occurred_at, e.recorded_at, e.recorded_at::text AS recorded_key, e.installation_id, e.phone, e.evidence
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
      id: r.id, state: r.state, source: r.source, occurredAt: r.occurred_at, recordedAt: r.recorded_at, installationId: r.installation_id, phone: r.phone, evidence: r.evidence,
    }))
    if (rows.length < pageSize) return
  }
}
