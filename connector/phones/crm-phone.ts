import {
  findPhoneNumbersInText,
  parsePhoneNumberFromString,
  type CountryCode,
  type NumberType,
  type PhoneNumber,
} from 'libphonenumber-js/max'
import { currentForm } from './whatsapp-id.ts'

/**
 * Number types kept for WhatsApp, which registers a number by SMS or call on a phone or app: MOBILE;
 * FIXED_LINE_OR_MOBILE, where the metadata cannot tell (all of US/CA and MX); VOIP (app numbers do
 * register WhatsApp). The other types are rejected with reason `fixed_line`: FIXED_LINE, TOLL_FREE,
 * PREMIUM_RATE, SHARED_COST, UAN, PERSONAL_NUMBER, PAGER, VOICEMAIL, i.e. lines that are no one's
 * handset. With the max metadata every valid number has a type (libphonenumber-js's isValid() is
 * getType() !== undefined), so there is no "valid but unknown" case.
 */
const KEPT_TYPES = ['MOBILE', 'FIXED_LINE_OR_MOBILE', 'VOIP'] as const
export type KeptNumberType = (typeof KEPT_TYPES)[number]

export type NormalizedPhone =
  | { ok: true; e164: string; country: CountryCode | undefined; type: KeptNumberType }
  | { ok: false; reason: 'missing' | 'invalid' | 'fixed_line' }

const MISSING: NormalizedPhone = { ok: false, reason: 'missing' }
const INVALID: NormalizedPhone = { ok: false, reason: 'invalid' }
const FIXED_LINE: NormalizedPhone = { ok: false, reason: 'fixed_line' }

/**
 * Turns a phone value as people type it into a CRM into the E.164 number to reach on WhatsApp.
 * National forms are read in `defaultCountry`; extensions are dropped; superseded BR/MX/AR mobile forms
 * are rewritten to the current ones (see whatsapp-id.ts).
 */
export function normalizeCrmPhone(input: string | null | undefined, defaultCountry: CountryCode): NormalizedPhone {
  const text = clean(input ?? '')
  if (text === '') return MISSING
  let rejection = INVALID
  for (const reading of readings(text, defaultCountry)) {
    const result = classify(reading)
    if (result.ok) return result
    if (rejection === INVALID) rejection = result
  }
  return rejection
}

function clean(input: string): string {
  return (
    input
      // Full-width digits, '+' and punctuation, and compatibility spaces become ASCII.
      .normalize('NFKC')
      // Bidi marks and zero-width characters come along when numbers are copied from phones and chats.
      .replace(/\p{Cf}/gu, '')
      .replace(/\s+/g, ' ')
      // Brazil's old written form "0xx11 …": xx stands for the carrier selection code.
      .replace(/\b0 ?xx ?(?=\(?\d)/gi, '0')
      .trim()
  )
}

// Ways to read the text, most likely first. A later reading counts only when no earlier one is a number
// we keep, so a valid national number always wins over a reinterpretation.
function* readings(text: string, defaultCountry: CountryCode): Generator<PhoneNumber | undefined> {
  // libphonenumber handles '+', the default country's trunk and international prefixes, tel: URIs,
  // extensions and surrounding words.
  yield parsePhoneNumberFromString(text, { defaultCountry })
  // Digits that start with a country code but lack the '+' (4915123456789), or that follow 00 where the
  // default country dials abroad otherwise (0049… in a US portal) or a stray '+' (+0049…).
  const international = text.replace(/^([^\d+]*)(?:\+\s*00|00)?(?=[1-9])/, '$1+')
  if (international !== text) yield parsePhoneNumberFromString(international)
  const spelled = spellOutVanity(text)
  if (spelled !== undefined) {
    const phone = parsePhoneNumberFromString(spelled, { defaultCountry })
    // Vanity numbers are a North American habit; elsewhere capitals are more likely junk than digits.
    if (phone?.countryCallingCode === '1') yield phone
  }
  // Fields holding several numbers ("030 1234567 / 0151 23456789"): the first one we keep.
  for (const found of findPhoneNumbersInText(text, { defaultCountry })) yield found.number
}

const KEYPAD = '22233344455566677778889999'

// Vanity numbers (1-800-FLOWERS) spell digits with the letters of a phone keypad. Only capitals after a
// leading digit count, so words around a number ("mobile", "call me") never turn into digits.
function spellOutVanity(text: string): string | undefined {
  if (!/^\+?\d[\d\s().\-A-Z]*$/.test(text) || (text.match(/[A-Z]/g)?.length ?? 0) < 3) return undefined
  return text.replace(/[A-Z]/g, (letter) => KEYPAD.charAt(letter.charCodeAt(0) - 65))
}

function classify(parsed: PhoneNumber | undefined): NormalizedPhone {
  if (!parsed) return INVALID
  const current = currentForm(parsed.number.slice(1))
  const phone = current === undefined ? parsed : parsePhoneNumberFromString(`+${current}`)
  if (!phone?.isValid()) return INVALID
  const type = phone.getType()
  if (!isKept(type)) return FIXED_LINE
  // Argentina: the mobile 9 was our guess (whatsapp-id.ts). Written without it, the number may just as
  // well be a landline, which no form of it reaches on WhatsApp.
  const argentineGuess = current !== undefined && phone.countryCallingCode === '54'
  return { ok: true, e164: phone.number, country: phone.country, type: argentineGuess ? 'FIXED_LINE_OR_MOBILE' : type }
}

function isKept(type: NumberType): type is KeptNumberType {
  return (KEPT_TYPES as readonly NumberType[]).includes(type)
}
