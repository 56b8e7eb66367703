import type { Logger } from 'pino'
import { isConnectionError, type Database } from '../db/database.ts'
import { consentStatuses, recordConsentEvent } from '../consent/consent-ledger.ts'
import { consentRefusal } from '../consent/send-policy.ts'
import {
  claimDueMessages, markAccepted, markSendFailed, markSending, markSkippedForConsent, markStaleSendsUnknown, requeueAfterError, type ClaimedMessage,
} from '../messages/message-repository.ts'
import { waIdToE164 } from '../phones/phone-number.ts'
import type { SecretBox } from '../security/secret-box.ts'
import type { WhatsAppClient } from '../whatsapp/graph-client.ts'
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

  async #claim(): Promise<ClaimedMessage[]> {
    return this.#o.db.transaction(async (tx) => {
      const claimed = await claimDueMessages(tx, this.#o.batchSize)
      // Consent is checked at the last moment, against the template's category as synced now: an
      // opt-out (or a withdrawn opt-in) that arrived after queueing still wins. Consent replies are exempt.
      const consent = await consentStatuses(tx, claimed.filter((m) => m.purpose === 'send').map((m) => waIdToE164(m.recipient)))
      const refusal = (m: ClaimedMessage) => m.purpose === 'send' ? consentRefusal(m.template_category, consent.get(waIdToE164(m.recipient)) ?? 'unknown') : undefined
      const skipped = claimed.flatMap((m) => {
        const reason = refusal(m)
        return reason ? [{ id: m.id, reason }] : []
      })
      const skippedIds = new Set(skipped.map((s) => s.id))
      const sendable = claimed.filter((m) => !skippedIds.has(m.id))
      await markSkippedForConsent(tx, skipped)
      await markSending(tx, sendable.map((m) => m.id))
      skipped.forEach(() => this.#o.onSend?.('skipped'))
      return sendable
    })
  }

  async #send(m: ClaimedMessage): Promise<void> {
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

  async #handleFailure(m: ClaimedMessage, error: unknown): Promise<void> {
    if (error instanceof GraphTransportError || !(error instanceof GraphError)) {
      // The request may have reached Meta: leave it 'sending' for reconciliation, never resend blindly.
      this.#o.log.warn({ messageId: m.id, err: error }, 'send outcome unknown; waiting for status webhooks to reconcile')
      return
    }
    if (error.code === 130429) this.#pacer.backOff(m.phone_number_id, 1000)
    if (error.retryable && m.attempts < this.#o.maxAttempts) {
      const delay = Math.min(60, 2 ** m.attempts) + Math.random()
      await requeueAfterError(this.#o.db, m.id, delay, { code: error.code, title: error.title, details: error.details ?? null })
      this.#o.onSend?.('retry', error.code)
      return
    }
    await this.#o.db.transaction(async (tx) => {
      await markSendFailed(tx, m.id, { code: error.code, title: error.title, details: error.details ?? null })
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
    const rowCount = await markStaleSendsUnknown(this.#o.db, this.#o.staleSendingMs)
    if (rowCount) this.#o.onSend?.('unknown')
    return rowCount
  }
}
