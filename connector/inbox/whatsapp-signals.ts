import { recordConsentEvent, type ConsentState, type Person } from '../consent/consent-ledger.ts'
import { linkWhatsAppUser } from '../contacts/whatsapp-user-repository.ts'
import type { Transaction } from '../db/database.ts'
import { findNumberByPhoneNumberId } from '../numbers/number-repository.ts'
import { installationsOfNumber } from '../numbers/number-scope-repository.ts'
import { waIdToE164 } from '../phones/phone-number.ts'
import { recordConsentAndWriteBack } from '../writeback/consent-writebacks.ts'

// Where a WhatsApp signal came from and whom it is about: the number it reached (its business
// portfolio, which scopes user ids, and the installations it serves) and the person, by phone
// and/or business-scoped user id (reference whatsapp.md §9).

export interface SignalOrigin {
  /** Scopes BSUIDs. A number not connected here falls back to the webhook's WABA id. */
  businessPortfolioId: string
  /** The installations the signal applies to; [null]: every installation. */
  installationIds: Array<string | null>
}

/** Resolves origins once per webhook batch. */
export function originResolver(tx: Transaction) {
  const cache = new Map<string, Promise<SignalOrigin>>()
  return (phoneNumberId: string | undefined, wabaId: string | undefined): Promise<SignalOrigin> => {
    const key = `${phoneNumberId ?? ''}\u0000${wabaId ?? ''}`
    let origin = cache.get(key)
    if (!origin) cache.set(key, (origin = resolveOrigin(tx, phoneNumberId, wabaId)))
    return origin
  }
}

async function resolveOrigin(tx: Transaction, phoneNumberId: string | undefined, wabaId: string | undefined): Promise<SignalOrigin> {
  const number = phoneNumberId ? await findNumberByPhoneNumberId(tx, phoneNumberId) : undefined
  if (!number) return { businessPortfolioId: wabaId ?? phoneNumberId ?? 'unknown', installationIds: [null] }
  const scoped = await installationsOfNumber(tx, number.id)
  return { businessPortfolioId: number.businessPortfolioId, installationIds: scoped.length ? scoped : [null] }
}

export interface Naming {
  waId?: string | undefined
  userId?: string | undefined
  parentUserId?: string | undefined
  username?: string | undefined
}

/** The person a signal names; a user id is recorded (and linked to the phone when both came). */
export async function personOf(tx: Transaction, origin: SignalOrigin, n: Naming): Promise<Person> {
  const phone = n.waId ? waIdToE164(n.waId) : undefined
  if (!n.userId) return { phone }
  const user = await linkWhatsAppUser(tx, { businessPortfolioId: origin.businessPortfolioId, userId: n.userId, parentUserId: n.parentUserId, phone: n.waId, username: n.username })
  return { phone: phone ?? user.phone, whatsappUserId: user.id }
}

export interface WhatsAppConsentSignal {
  state: ConsentState
  source: string
  evidence: Record<string, unknown>
  occurredAt: Date
  dedupeKey: string
}

/**
 * Records a WhatsApp consent signal for each installation the number serves (one event without
 * installation when it serves all), so another customer's installations are unaffected. True when
 * any event was new.
 */
export async function recordWhatsAppConsent(tx: Transaction, origin: SignalOrigin, person: Person, s: WhatsAppConsentSignal): Promise<boolean> {
  let recorded = false
  for (const installationId of origin.installationIds) {
    const event = {
      installationId,
      state: s.state,
      source: s.source,
      evidence: s.evidence,
      occurredAt: s.occurredAt,
      dedupeKey: installationId ? `${s.dedupeKey}:${installationId}` : s.dedupeKey,
      whatsappUserId: person.whatsappUserId ?? null,
    }
    // CRM records are found by phone: a person known only by user id has none to write back to yet.
    const fresh = person.phone ? await recordConsentAndWriteBack(tx, { ...event, phone: person.phone }) : await recordConsentEvent(tx, event)
    recorded ||= fresh
  }
  return recorded
}
