import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { e164ToWaId, waIdToE164 } from './phone-number.ts'

// Three countries changed how their mobile numbers are written, and WhatsApp ids (wa_id) of older
// accounts, like many CRM records, still use the superseded form. The same person then shows up as two
// digit strings: the most frequent cause of duplicate contacts in WhatsApp CRM integrations (chatwoot
// app/services/whatsapp/phone_normalizers/{brazil,argentina,mexico}_phone_normalizer.rb and PRs #14174,
// #14264; WAHA docs "Phone Numbers: Argentina", "Phone Numbers").
//
// Rules work on E.164 digits (no '+'). A rewrite to the current form applies only when libphonenumber
// accepts the result (for BR and AR only mobiles can be), so digits that are no such number stay as they are.
const REWRITES: readonly { readonly from: RegExp; readonly to: string }[] = [
  // Brazil: mobile numbers gained a ninth digit, a 9 after the 2-digit area code (rolled out 2012–2016).
  // 8-digit mobile numbers began with 6–9, landlines begin with 2–5 (Anatel numbering plan; common
  // knowledge), so 55 + area + [6-9]xxxxxxx is a mobile written without its 9.
  { from: /^55([1-9]{2})([6-9]\d{7})$/, to: '55$19$2' },
  // Mexico: since 2019-08-03 all numbers are 10 digits; the "1" after +52 for mobiles and the national
  // prefixes 01, 044 and 045 were abolished (IFT; commsupdate.com 2019-07-18: the 10-digit numbers are
  // unique nationwide, so dropping a prefix never merges two subscribers). Many wa_ids still read 521….
  { from: /^52(?:1|01|04[45])([2-9]\d{9})$/, to: '52$1' },
  // Argentina: in E.164 a mobile is +54 9 <area> <number>, and wa_ids come as 549…; CRMs often hold
  // +54 <area> <number>, the form Argentines use for SMS (Wikipedia "Telephone numbers in Argentina").
  // Fixed and mobile numbers share the area-code ranges ("flat" plan), and libphonenumber's AR mobile
  // patterns are its fixed-line patterns with a leading 9, so the form without the 9 cannot be told
  // from a mobile; the local "15" mobile prefix is already removed by libphonenumber.
  { from: /^54([1-3]\d{9})$/, to: '549$1' },
]

// The superseded form WhatsApp may still report for a current-form key.
const OLD_WA_ID_FORMS: readonly { readonly from: RegExp; readonly to: string }[] = [
  { from: /^55([1-9]{2})9([6-9]\d{7})$/, to: '55$1$2' },
  { from: /^52([2-9]\d{9})$/, to: '521$1' },
  { from: /^549([1-3]\d{9})$/, to: '54$1' },
]

/** The current E.164 digits of a number written in a superseded BR/MX/AR form, if it is one. */
export function currentForm(digits: string): string | undefined {
  const rule = REWRITES.find((r) => r.from.test(digits))
  if (!rule) return undefined
  const current = digits.replace(rule.from, rule.to)
  return parsePhoneNumberFromString(`+${current}`)?.isValid() ? current : undefined
}

/**
 * One key for every form of a person's number, to match CRM numbers with WhatsApp ids: the digits of the
 * number's current E.164 form (like a wa_id, no '+'). Accepts E.164, wa_ids, or digits with punctuation.
 */
export function whatsappMatchKey(e164OrWaId: string): string {
  const digits = e164ToWaId(waIdToE164(e164OrWaId))
  return currentForm(digits) ?? digits
}

/** The wa_ids a number may be reported as: its key first, then the superseded form if it has one. */
export function matchKeyVariants(e164OrWaId: string): string[] {
  const key = whatsappMatchKey(e164OrWaId)
  const old = OLD_WA_ID_FORMS.find((f) => f.from.test(key))
  if (!old) return [key]
  const oldForm = key.replace(old.from, old.to)
  // Only a form that maps back to this key: a key that is not a valid mobile has no old form.
  return whatsappMatchKey(oldForm) === key ? [key, oldForm] : [key]
}
