import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max'

// Phone numbers are kept in E.164 ("+4915123456789"). WhatsApp reports people as wa_id: the same
// digits without '+' (reference whatsapp.md §1.1).

export class InvalidPhoneError extends Error {
  readonly code = 'INVALID_PHONE'
  constructor(input: string) {
    super(`Not a valid phone number in international format: ${input.length > 40 ? `${input.slice(0, 40)}…` : input}`)
    this.name = 'InvalidPhoneError'
  }
}

/** Parses a number written in E.164 or, with a default country, in national form. */
export function toE164(input: string, defaultCountry?: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry ? { defaultCountry } : undefined)
  return parsed?.isValid() ? parsed.number : undefined
}

/** Strict form for API input: must start with '+' and be a valid number. */
export function requireE164(input: string): string {
  if (!/^\+\d{6,15}$/.test(input.trim())) throw new InvalidPhoneError(input)
  const e164 = toE164(input)
  if (!e164) throw new InvalidPhoneError(input)
  return e164
}

export function waIdToE164(waId: string): string {
  const digits = waId.replace(/\D/g, '')
  return toE164(`+${digits}`) ?? `+${digits}`
}

export function e164ToWaId(e164: string): string {
  return e164.replace(/\D/g, '')
}
