import type { Logger } from 'pino'
import { isConnectionError, type Database } from '../db/database.ts'
import { consentStatusesOfRecipients, recordConsentEvent } from '../consent/consent-ledger.ts'
import { findWhatsAppUserById } from '../contacts/whatsapp-user-repository.ts'
import { consentRefusal } from '../consent/send-policy.ts'
import {
  claimDueMessages, markAccepted, markSendFailed, markSending, markSkippedForConsent, markStaleSendsUnknown, requeueAfterError, type ClaimedMessage,
} from '../messages/message-repository.ts'
import { e164ToWaId, waIdToE164 } from '../phones/phone-number.ts'
import type { SecretBox } from '../security/secret-box.ts'
import { isBsuid } from '../whatsapp/bsuid.ts'
import type { Addressee, WhatsAppClient } from '../whatsapp/graph-client.ts'
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
/** Meta refuses this message to a business-scoped user id (authentication templates; reference §2.2). */
const NEEDS_PHONE_CODE = 131062

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
      const consent = await consentStatusesOfRecipients(tx, claimed.filter((m) => m.purpose === 'send').map((m) => m.recipient))
      const refusal = (m: ClaimedMessage) => m.purpose === 'send' ? consentRefusal(m.template_category, consent.get(m.recipient) ?? 'unknown') : undefined
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
      const to = await this.#addressOf(m)
      if (!to) return await this.#failNeedsPhone(m)
      let result
      try {
        result = await this.#deliver(m, token, to)
      } catch (error) {
        if (!(error instanceof GraphError && error.code === NEEDS_PHONE_CODE && to.userId)) throw error
        // Meta refused the user id: resend once to the phone, if the connector has learnt it since.
        const phone = await this.#phoneOf(to.userId)
        if (!phone) return await this.#failNeedsPhone(m)
        result = await this.#deliver(m, token, { to: e164ToWaId(phone) })
      }
      await this.#o.db.transaction((tx) => markAccepted(tx, m.id, result.wamid))
      this.#o.onSend?.('accepted')
    } catch (error) {
      await this.#handleFailure(m, error)
    }
  }

  #deliver(m: ClaimedMessage, token: string, to: Addressee) {
    return m.kind === 'template'
      ? this.#o.graph.sendTemplate(m.phone_number_id, token, {
        ...to, name: m.template_name!, language: m.template_language!, components: m.content.components, callbackData: m.id,
      })
      : this.#o.graph.sendText(m.phone_number_id, token, { ...to, body: m.content.body ?? '', replyTo: m.content.replyTo, callbackData: m.id })
  }

  /**
   * The phone when known (Meta recommends it, reference §9), else the user id; undefined for an
   * authentication template to a user without a known phone, which Meta never takes by user id.
   */
  async #addressOf(m: ClaimedMessage): Promise<Addressee | undefined> {
    if (!isBsuid(m.recipient)) return { to: m.recipient }
    const phone = await this.#phoneOf(m.recipient)
    if (phone) return { to: e164ToWaId(phone) }
    return m.template_category?.toUpperCase() === 'AUTHENTICATION' ? undefined : { userId: m.recipient }
  }

  async #phoneOf(userId: string): Promise<string | undefined> {
    return (await findWhatsAppUserById(this.#o.db, userId))?.phone ?? undefined
  }

  async #failNeedsPhone(m: ClaimedMessage): Promise<void> {
    await markSendFailed(this.#o.db, m.id, {
      code: NEEDS_PHONE_CODE, title: 'Needs phone',
      details: 'This message cannot go to a WhatsApp user id and the connector knows no phone for the user',
    })
    this.#o.onSend?.('failed', NEEDS_PHONE_CODE)
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
        const user = isBsuid(m.recipient) ? await findWhatsAppUserById(tx, m.recipient) : undefined
        await recordConsentEvent(tx, {
          ...(user ? { phone: user.phone, whatsappUserId: user.id } : { phone: waIdToE164(m.recipient) }),
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
