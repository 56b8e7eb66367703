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

const ORDER = `occurred_at DESC, (state = 'opted_out') DESC, id DESC`

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
    `SELECT state, source, evidence, occurred_at, recorded_at, installation_id FROM consent_events
     WHERE match_key = $1 AND ($2::uuid IS NULL OR installation_id IS NULL OR installation_id = $2::uuid)
     ORDER BY ${ORDER}`,
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

export function currentState(history: ConsentEvent[]): ConsentStatus {
  return history[0]?.state ?? 'unknown'
}

export async function consentStatus(db: Queryable, phone: string, installationId?: string): Promise<ConsentStatus> {
  const { rows } = await db.query<{ state: ConsentState }>(
    `SELECT state FROM consent_events
     WHERE match_key = $1 AND ($2::uuid IS NULL OR installation_id IS NULL OR installation_id = $2::uuid)
     ORDER BY ${ORDER} LIMIT 1`,
    [whatsappMatchKey(phone), installationId ?? null],
  )
  return rows[0]?.state ?? 'unknown'
}
