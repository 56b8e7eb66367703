import type { Queryable } from '../db/database.ts'
import type { ConsentRefusal } from '../consent/send-policy.ts'
import { senderJoinSql } from '../numbers/number-repository.ts'
import { templateCategorySql } from '../templates/template-repository.ts'
import type { SendComponent } from '../whatsapp/graph-client.ts'
import type { StatusEvent } from '../whatsapp/webhook-payload.ts'
import { statusRank, type MessageStatus } from './status-order.ts'

export { MESSAGE_STATUSES, type MessageStatus } from './status-order.ts'

// Messages and their status history: the only module that writes messages and message_statuses,
// and the only user of the status ranks. Webhook statuses are stored once per (wamid, status); the
// message's current status is raised, never lowered, as they arrive.

export interface NewMessage {
  idempotencyKey: string
  /** A digest of the request the message was made from, for keys a caller chose. */
  requestHash?: string
  numberId: string
  recipient: string
  kind: 'template' | 'text'
  templateName?: string
  templateLanguage?: string
  content: Record<string, unknown>
  purpose?: 'send' | 'consent_reply'
}

export interface MessageError {
  /** Graph's error code; the connector's reason (e.g. RECIPIENT_OPTED_OUT) when it stopped the message itself. */
  code: number | string | null
  title: string | null
  details: string | null
}

export interface MessageView {
  id: string
  wamid: string | null
  status: MessageStatus
  recipient: string
  numberId: string
  kind: string
  templateName: string | null
  templateLanguage: string | null
  createdAt: string
  history: Array<{ status: string; at: string }>
  error?: MessageError
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: string): boolean {
  return UUID.test(value)
}

/** An idempotency key used again with a different request. */
export class IdempotencyKeyReusedError extends Error {
  readonly code = 'IDEMPOTENCY_KEY_REUSED'
  constructor() {
    super('This idempotency key was used before with a different request; use a new key for a new message')
    this.name = 'IdempotencyKeyReusedError'
  }
}

/**
 * Inserts the message unless its idempotency key exists; returns the id either way. With a
 * `requestHash`, a key that exists for another request throws IdempotencyKeyReusedError.
 */
export async function enqueueMessage(db: Queryable, m: NewMessage): Promise<{ id: string; created: boolean }> {
  const inserted = await db.query<{ id: string }>(
    `INSERT INTO messages (idempotency_key, number_id, recipient, kind, template_name, template_language, content, purpose, request_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [m.idempotencyKey, m.numberId, m.recipient, m.kind, m.templateName ?? null, m.templateLanguage ?? null, JSON.stringify(m.content), m.purpose ?? 'send', m.requestHash ?? null],
  )
  if (inserted.rows[0]) return { id: inserted.rows[0].id, created: true }
  return { id: (await messageForKey(db, m.idempotencyKey, m.requestHash))!, created: false }
}

/** The message made earlier under this idempotency key, if any; another request's key throws IdempotencyKeyReusedError. */
export async function messageForKey(db: Queryable, idempotencyKey: string, requestHash: string | undefined): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string; request_hash: string | null }>('SELECT id, request_hash FROM messages WHERE idempotency_key = $1', [idempotencyKey])
  const first = rows[0]
  if (first && requestHash && first.request_hash && first.request_hash !== requestHash) throw new IdempotencyKeyReusedError()
  return first?.id
}

function errorOf(e: StatusEvent): { code: number | null; title: string | null; details: string | null } {
  const first = e.errors?.[0]
  return { code: first?.code ?? null, title: first?.title ?? first?.message ?? null, details: first?.error_data?.details ?? null }
}

export type StatusOutcome = 'duplicate' | 'applied' | 'pending'

/**
 * Stores webhook statuses set-wise: one INSERT for all, one UPDATE raising every affected message.
 * Per event: 'duplicate' when Meta repeated it, 'applied' when it reached a known message,
 * 'pending' when the message is not known yet (applied later by markAccepted).
 */
export async function recordWebhookStatuses(db: Queryable, events: StatusEvent[]): Promise<StatusOutcome[]> {
  if (!events.length) return []
  const inserted = await db.query<{ wamid: string; status: string }>(
    `INSERT INTO message_statuses (wamid, status, occurred_at, recipient_id, callback_data, errors, pricing)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])
     ON CONFLICT (wamid, status) DO NOTHING RETURNING wamid, status`,
    [
      events.map((e) => e.wamid), events.map((e) => e.status), events.map((e) => e.occurredAt), events.map((e) => e.recipientId ?? null),
      events.map((e) => e.callbackData ?? null), events.map((e) => (e.errors ? JSON.stringify(e.errors) : null)),
      events.map((e) => (e.pricing === undefined ? null : JSON.stringify(e.pricing))),
    ],
  )
  const fresh = new Set(inserted.rows.map((r) => `${r.wamid}\u0000${r.status}`))
  const known = await db.query<{ id: string; wamid: string }>('SELECT id, wamid FROM messages WHERE wamid = ANY($1::text[])', [[...new Set(inserted.rows.map((r) => r.wamid))]])
  const messageOf = new Map(known.rows.map((r) => [r.wamid, r.id]))
  const outcomes: StatusOutcome[] = []
  const raises: Array<{ id: string; status: MessageStatus; error?: ReturnType<typeof errorOf> }> = []
  const seen = new Set<string>()
  for (const e of events) {
    const key = `${e.wamid}\u0000${e.status}`
    if (!fresh.has(key) || seen.has(key)) {
      outcomes.push('duplicate')
      continue
    }
    seen.add(key)
    let id = messageOf.get(e.wamid)
    if (!id && e.callbackData && isUuid(e.callbackData)) {
      // The send reached Meta but its wamid was never committed here (crash between the Graph call
      // and the commit): the echoed callback data names our message, so adopt the wamid.
      const adopted = await db.query<{ id: string }>(
        `UPDATE messages SET wamid = $2, accepted_at = COALESCE(accepted_at, now()), updated_at = now()
         WHERE id = $1 AND wamid IS NULL RETURNING id`,
        [e.callbackData, e.wamid],
      )
      id = adopted.rows[0]?.id
      if (id) messageOf.set(e.wamid, id)
    }
    if (!id) {
      outcomes.push('pending')
      continue
    }
    raises.push({ id, status: e.status as MessageStatus, error: e.status === 'failed' ? errorOf(e) : undefined })
    outcomes.push('applied')
  }
  await raiseStatuses(db, raises)
  return outcomes
}

/** Raises several messages at once; for each message the highest-ranked status wins. */
async function raiseStatuses(db: Queryable, raises: Array<{ id: string; status: MessageStatus; error?: { code: number | null; title: string | null; details: string | null } }>): Promise<void> {
  const best = new Map<string, (typeof raises)[number]>()
  for (const r of raises) {
    const current = best.get(r.id)
    if (!current || statusRank(r.status) > statusRank(current.status)) best.set(r.id, r)
  }
  if (!best.size) return
  const rows = [...best.values()]
  await db.query(
    `UPDATE messages m SET status = v.status, status_rank = v.rank, updated_at = now(),
       error_code = COALESCE(v.code, m.error_code), error_title = COALESCE(v.title, m.error_title), error_details = COALESCE(v.details, m.error_details)
     FROM unnest($1::uuid[], $2::text[], $3::smallint[], $4::int[], $5::text[], $6::text[]) AS v(id, status, rank, code, title, details)
     WHERE m.id = v.id AND m.status_rank < v.rank`,
    [rows.map((r) => r.id), rows.map((r) => r.status), rows.map((r) => statusRank(r.status)), rows.map((r) => r.error?.code ?? null), rows.map((r) => r.error?.title ?? null), rows.map((r) => r.error?.details ?? null)],
  )
}

export async function raiseStatus(db: Queryable, id: string, status: MessageStatus, error?: { code: number | null; title: string | null; details: string | null }): Promise<void> {
  await db.query(
    `UPDATE messages SET status = $2, status_rank = $3, updated_at = now(),
       error_code = COALESCE($4, error_code), error_title = COALESCE($5, error_title), error_details = COALESCE($6, error_details)
     WHERE id = $1 AND status_rank < $3`,
    [id, status, statusRank(status), error?.code ?? null, error?.title ?? null, error?.details ?? null],
  )
}

/** Records Graph's acceptance and applies statuses that arrived before the wamid was known. */
export async function markAccepted(db: Queryable, id: string, wamid: string): Promise<void> {
  await db.query(
    `UPDATE messages SET wamid = $2, accepted_at = now(), updated_at = now() WHERE id = $1`,
    [id, wamid],
  )
  await raiseStatus(db, id, 'accepted')
  const early = await db.query<{ status: string; errors: StatusEvent['errors'] | null }>(
    'SELECT status, errors FROM message_statuses WHERE wamid = $1',
    [wamid],
  )
  for (const s of early.rows) {
    const first = s.errors?.[0]
    await raiseStatus(db, id, s.status as MessageStatus, first ? { code: first.code, title: first.title ?? null, details: first.error_data?.details ?? null } : undefined)
  }
}

// The dispatcher's transitions. Each is guarded by the state it leaves, so a message another
// path has moved on (a webhook, a reconciliation) is not moved back.

export interface ClaimedMessage {
  id: string
  recipient: string
  kind: 'template' | 'text'
  purpose: 'send' | 'consent_reply'
  template_name: string | null
  template_language: string | null
  /** The synced template's category; null for a template never synced (and for texts). */
  template_category: string | null
  content: { components?: SendComponent[]; body?: string; replyTo?: string }
  attempts: number
  phone_number_id: string
  access_token_enc: string
  messages_per_second: number
}

/**
 * Locks up to `limit` queued messages that are due (SKIP LOCKED), with the number each sends from
 * and its template's category as last synced (for the consent check). Inside a transaction.
 */
export async function claimDueMessages(tx: Queryable, limit: number): Promise<ClaimedMessage[]> {
  const { rows } = await tx.query<ClaimedMessage>(
    `SELECT m.id, m.recipient, m.kind, m.template_name, m.template_language, m.content, m.attempts, m.purpose,
            n.phone_number_id, n.access_token_enc, n.messages_per_second,
            ${templateCategorySql('n.waba_id', 'm.template_name', 'm.template_language')} AS template_category
     FROM messages m ${senderJoinSql('m.number_id')}
     WHERE m.status = 'queued' AND m.next_attempt_at <= now()
     ORDER BY m.next_attempt_at, m.id LIMIT $1 FOR UPDATE OF m SKIP LOCKED`,
    [limit],
  )
  return rows
}

/** Claimed messages their recipient's consent does not allow: skipped with the reason, never sent. */
export async function markSkippedForConsent(db: Queryable, skips: ReadonlyArray<{ id: string; reason: ConsentRefusal }>): Promise<void> {
  if (!skips.length) return
  await db.query(
    `UPDATE messages m SET status = 'skipped', status_rank = $3, skip_reason = v.reason, updated_at = now(),
       error_title = CASE v.reason WHEN 'RECIPIENT_OPTED_OUT' THEN 'Recipient opted out' ELSE 'Consent required' END,
       error_details = CASE v.reason WHEN 'RECIPIENT_OPTED_OUT' THEN 'The recipient''s current consent state is opted_out'
         ELSE 'A marketing template (or one never synced) goes only to recipients whose current consent state is opted_in' END
     FROM unnest($1::uuid[], $2::text[]) AS v(id, reason) WHERE m.id = v.id`,
    [skips.map((s) => s.id), skips.map((s) => s.reason), statusRank('skipped')],
  )
}

/** Claimed messages about to be sent, committed before Graph is called. */
export async function markSending(db: Queryable, ids: readonly string[]): Promise<void> {
  if (!ids.length) return
  await db.query(
    `UPDATE messages SET status = 'sending', status_rank = $2, sending_at = now(), attempts = attempts + 1, updated_at = now() WHERE id = ANY($1::uuid[])`,
    [ids, statusRank('sending')],
  )
}

/** A retryable Graph refusal: queued again after `delaySeconds`, with the error kept. */
export async function requeueAfterError(db: Queryable, id: string, delaySeconds: number, error: MessageError): Promise<void> {
  await db.query(
    `UPDATE messages SET status = 'queued', status_rank = $6, next_attempt_at = now() + make_interval(secs => $2),
       error_code = $3, error_title = $4, error_details = $5, updated_at = now() WHERE id = $1 AND status = 'sending'`,
    [id, delaySeconds, error.code, error.title, error.details, statusRank('queued')],
  )
}

/** Graph refused the send for good. */
export async function markSendFailed(db: Queryable, id: string, error: MessageError): Promise<void> {
  await db.query(
    `UPDATE messages SET status = 'failed', status_rank = $5, error_code = $2, error_title = $3, error_details = $4, updated_at = now()
     WHERE id = $1 AND status = 'sending'`,
    [id, error.code, error.title, error.details, statusRank('failed')],
  )
}

/** Messages 'sending' for longer than `olderThanMs` that no webhook has named become 'unknown'; returns how many. */
export async function markStaleSendsUnknown(db: Queryable, olderThanMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE messages SET status = 'unknown', status_rank = $2, updated_at = now(),
       error_title = 'Send outcome unknown', error_details = 'The connector stopped between calling Graph and recording the answer; no status webhook has named this message since'
     WHERE status = 'sending' AND sending_at < now() - make_interval(secs => $1) AND wamid IS NULL`,
    [olderThanMs / 1000, statusRank('unknown')],
  )
  return rowCount
}

interface MessageRow {
  id: string
  wamid: string | null
  status: MessageStatus
  recipient: string
  number_id: string
  kind: string
  template_name: string | null
  template_language: string | null
  created_at: Date
  sending_at: Date | null
  accepted_at: Date | null
  error_code: number | null
  skip_reason: string | null
  error_title: string | null
  error_details: string | null
}

export async function findMessage(db: Queryable, idOrWamid: string): Promise<MessageView | undefined> {
  const { rows } = await db.query<MessageRow>(
    `SELECT id, wamid, status, recipient, number_id, kind, template_name, template_language, created_at, sending_at, accepted_at,
            error_code, skip_reason, error_title, error_details
     FROM messages WHERE ${isUuid(idOrWamid) ? 'id = $1::uuid' : 'wamid = $1'}`,
    [idOrWamid],
  )
  const m = rows[0]
  if (!m) return undefined
  const history: Array<{ status: string; at: string }> = [{ status: 'queued', at: m.created_at.toISOString() }]
  if (m.accepted_at) history.push({ status: 'accepted', at: m.accepted_at.toISOString() })
  if (m.wamid) {
    const statuses = await db.query<{ status: string; occurred_at: Date }>(
      'SELECT status, occurred_at FROM message_statuses WHERE wamid = $1 ORDER BY occurred_at, id',
      [m.wamid],
    )
    for (const s of statuses.rows) history.push({ status: s.status, at: s.occurred_at.toISOString() })
  }
  if ((m.status === 'skipped' || m.status === 'unknown' || (m.status === 'failed' && !m.wamid)) && !history.some((h) => h.status === m.status)) {
    history.push({ status: m.status, at: (m.sending_at ?? m.created_at).toISOString() })
  }
  const view: MessageView = {
    id: m.id,
    wamid: m.wamid,
    status: m.status,
    recipient: m.recipient,
    numberId: m.number_id,
    kind: m.kind,
    templateName: m.template_name,
    templateLanguage: m.template_language,
    createdAt: m.created_at.toISOString(),
    history,
  }
  if (m.error_code !== null || m.error_title !== null) view.error = { code: m.error_code ?? m.skip_reason, title: m.error_title, details: m.error_details }
  return view
}

export interface PersonMessage {
  id: string
  wamid: string | null
  recipient: string
  status: MessageStatus
  templateName: string | null
  templateLanguage: string | null
  content: unknown
  createdAt: string
  statuses: Array<{ status: string; at: string; errors: unknown }>
}

/** The messages sent to these recipients (wa_ids or BSUIDs), with their content and status history. */
export async function messagesToRecipients(db: Queryable, recipients: readonly string[]): Promise<PersonMessage[]> {
  if (!recipients.length) return []
  const { rows } = await db.query<{ id: string; wamid: string | null; recipient: string; status: MessageStatus; template_name: string | null; template_language: string | null; content: unknown; created_at: Date; statuses: Array<{ status: string; at: string; errors: unknown }> }>(
    `SELECT m.id, m.wamid, m.recipient, m.status, m.template_name, m.template_language, m.content, m.created_at,
       COALESCE((SELECT json_agg(json_build_object('status', s.status, 'at', s.occurred_at, 'errors', s.errors) ORDER BY s.occurred_at, s.id)
                 FROM message_statuses s WHERE s.wamid = m.wamid), '[]'::json) AS statuses
     FROM messages m WHERE m.recipient = ANY($1::text[]) ORDER BY m.created_at, m.id`,
    [recipients],
  )
  return rows.map((r) => ({
    id: r.id, wamid: r.wamid, recipient: r.recipient, status: r.status, templateName: r.template_name, templateLanguage: r.template_language,
    content: r.content, createdAt: r.created_at.toISOString(), statuses: r.statuses.map((s) => ({ status: s.status, at: new Date(s.at).toISOString(), errors: s.errors })),
  }))
}

/**
 * Erases the messages to these recipients: the recipient becomes its person_hash, the content
 * (template parameters, text) is emptied, a message still queued is skipped (ERASED), and the
 * statuses drop the recipient id. The rows stay for broadcast counts. Returns the messages erased.
 */
export async function eraseMessagesToRecipients(db: Queryable, recipients: readonly string[]): Promise<number> {
  if (!recipients.length) return 0
  await db.query(
    `UPDATE message_statuses s SET recipient_id = NULL FROM messages m WHERE m.recipient = ANY($1::text[]) AND s.wamid = m.wamid`,
    [recipients],
  )
  const { rowCount } = await db.query(
    `UPDATE messages SET recipient = person_hash(recipient), content = '{}'::jsonb,
       status = CASE WHEN status = 'queued' THEN 'skipped' ELSE status END,
       skip_reason = CASE WHEN status = 'queued' THEN 'ERASED' ELSE skip_reason END, updated_at = now()
     WHERE recipient = ANY($1::text[])`,
    [recipients],
  )
  return rowCount
}
