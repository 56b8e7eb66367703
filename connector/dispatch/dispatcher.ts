import type { Logger } from 'pino'
import { isConnectionError, type Database } from '../db/database.ts'
import { consentStatus, recordConsentEvent } from '../consent/consent-ledger.ts'
import { markAccepted } from '../messages/message-repository.ts'
import { waIdToE164 } from '../phones/phone-number.ts'
import type { SecretBox } from '../security/secret-box.ts'
import type { SendComponent, WhatsAppClient } from '../whatsapp/graph-client.ts'
import { GraphError, GraphTransportError } from '../whatsapp/graph-errors.ts'
import { Pacer } from './pacer.ts'
import { PollingWorker } from '../jobs/polling-loop.ts'

// Sends queued messages. A message is claimed (SKIP LOCKED) and marked 'sending' in its own
// commit before Graph is called, so a crash after the call can never lead to a blind resend: a
// message left in 'sending' is reconciled from the status webhooks that echo our message id as
// biz_opaque_callback_data, and otherwise ends as 'unknown' for a person to decide.

export interface DispatcherOptions {
  db: Database
  graph: WhatsAppClient
  secrets: SecretBox
  log: Logger
  batchSize?: number
  pollMs?: number
  maxAttempts?: number
  /** How long a message may stay 'sending' before it is declared 'unknown'. */
  staleSendingMs?: number
  onSend?: (outcome: 'accepted' | 'failed' | 'retry' | 'skipped' | 'unknown', code?: number) => void
}

interface Claimed {
  id: string
  recipient: string
  kind: 'template' | 'text'
  template_name: string | null
  template_language: string | null
  content: { components?: SendComponent[]; body?: string; replyTo?: string }
  attempts: number
  phone_number_id: string
  access_token_enc: string
  messages_per_second: number
}

const OPT_OUT_CODE = 131050

export class Dispatcher extends PollingWorker {
  readonly #o: Required<Omit<DispatcherOptions, 'onSend'>> & Pick<DispatcherOptions, 'onSend'>
  readonly #pacer = new Pacer()

  constructor(options: DispatcherOptions) {
    super(options.pollMs ?? 250)
    this.#o = { batchSize: 100, pollMs: 250, maxAttempts: 5, staleSendingMs: 10 * 60_000, ...options }
  }

  protected async pass(): Promise<void> {
    try {
      await this.reconcileStale()
      while (!this.stopped && (await this.runOnce()) > 0) { /* drain */ }
    } catch (error) {
      if (isConnectionError(error)) this.#o.log.warn('dispatch paused: database unreachable')
      else this.#o.log.error({ err: error }, 'dispatch failed')
    }
  }

  /** Claims and sends one batch; returns how many messages it claimed. */
  async runOnce(): Promise<number> {
    const claimed = await this.#claim()
    await Promise.all(claimed.map((m) => this.#send(m)))
    return claimed.length
  }

  async #claim(): Promise<Claimed[]> {
    return this.#o.db.transaction(async (tx) => {
      const { rows } = await tx.query<Claimed & { purpose: string }>(
        `SELECT m.id, m.recipient, m.kind, m.template_name, m.template_language, m.content, m.attempts, m.purpose,
                n.phone_number_id, n.access_token_enc, n.messages_per_second
         FROM messages m JOIN whatsapp_numbers n ON n.id = m.number_id
         WHERE m.status = 'queued' AND m.next_attempt_at <= now()
         ORDER BY m.next_attempt_at, m.id LIMIT $1 FOR UPDATE OF m SKIP LOCKED`,
        [this.#o.batchSize],
      )
      const sendable: Claimed[] = []
      for (const m of rows) {
        // Consent is checked at the last moment: an opt-out that arrived after queueing still wins.
        if (m.purpose === 'send' && (await consentStatus(tx, waIdToE164(m.recipient))) === 'opted_out') {
          await tx.query(
            `UPDATE messages SET status = 'skipped', status_rank = 6, error_title = 'Recipient opted out', error_details = 'The recipient''s current consent state is opted_out', updated_at = now() WHERE id = $1`,
            [m.id],
          )
          this.#o.onSend?.('skipped')
          continue
        }
        await tx.query(`UPDATE messages SET status = 'sending', status_rank = 1, sending_at = now(), attempts = attempts + 1, updated_at = now() WHERE id = $1`, [m.id])
        sendable.push(m)
      }
      return sendable
    })
  }

  async #send(m: Claimed): Promise<void> {
    const token = this.#o.secrets.open(m.access_token_enc)
    await this.#pacer.take(m.phone_number_id, m.messages_per_second)
    try {
      const result = m.kind === 'template'
        ? await this.#o.graph.sendTemplate(m.phone_number_id, token, {
          to: m.recipient, name: m.template_name!, language: m.template_language!, components: m.content.components, callbackData: m.id,
        })
        : await this.#o.graph.sendText(m.phone_number_id, token, { to: m.recipient, body: m.content.body ?? '', replyTo: m.content.replyTo, callbackData: m.id })
      await this.#o.db.transaction((tx) => markAccepted(tx, m.id, result.wamid))
      this.#o.onSend?.('accepted')
    } catch (error) {
      await this.#handleFailure(m, error)
    }
  }

  async #handleFailure(m: Claimed, error: unknown): Promise<void> {
    if (error instanceof GraphTransportError || !(error instanceof GraphError)) {
      // The request may have reached Meta: leave it 'sending' for reconciliation, never resend blindly.
      this.#o.log.warn({ messageId: m.id, err: error }, 'send outcome unknown; waiting for status webhooks to reconcile')
      return
    }
    if (error.code === 130429) this.#pacer.backOff(m.phone_number_id, 1000)
    if (error.retryable && m.attempts < this.#o.maxAttempts) {
      const delay = Math.min(60, 2 ** m.attempts) + Math.random()
      await this.#o.db.query(
        `UPDATE messages SET status = 'queued', status_rank = 0, next_attempt_at = now() + make_interval(secs => $2),
           error_code = $3, error_title = $4, error_details = $5, updated_at = now() WHERE id = $1 AND status = 'sending'`,
        [m.id, delay, error.code, error.title, error.details ?? null],
      )
      this.#o.onSend?.('retry', error.code)
      return
    }
    await this.#o.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE messages SET status = 'failed', status_rank = 6, error_code = $2, error_title = $3, error_details = $4, updated_at = now()
         WHERE id = $1 AND status = 'sending'`,
        [m.id, error.code, error.title, error.details ?? null],
      )
      if (error.code === OPT_OUT_CODE) {
        await recordConsentEvent(tx, {
          phone: waIdToE164(m.recipient),
          state: 'opted_out',
          source: 'whatsapp_error_131050',
          evidence: { messageId: m.id, code: error.code, title: error.title, fbtraceId: error.fbtraceId ?? null },
          occurredAt: new Date(),
          dedupeKey: `wa-send:${m.id}:131050`,
        })
      }
    })
    this.#o.log.warn({ messageId: m.id, code: error.code, fbtraceId: error.fbtraceId }, 'send failed')
    this.#o.onSend?.('failed', error.code)
  }

  /** Messages stuck in 'sending' past the window become 'unknown' (see the class comment). */
  async reconcileStale(): Promise<number> {
    const { rowCount } = await this.#o.db.query(
      `UPDATE messages SET status = 'unknown', status_rank = 2, updated_at = now(),
         error_title = 'Send outcome unknown', error_details = 'The connector stopped between calling Graph and recording the answer; no status webhook has named this message since'
       WHERE status = 'sending' AND sending_at < now() - make_interval(secs => $1) AND wamid IS NULL`,
      [this.#o.staleSendingMs / 1000],
    )
    if (rowCount) this.#o.onSend?.('unknown')
    return rowCount
  }
}
