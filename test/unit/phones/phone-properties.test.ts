import fc from 'fast-check'
import { getCountries, getExampleNumber, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max'
import examples from 'libphonenumber-js/mobile/examples'
import { describe, expect, it } from 'vitest'
import { normalizeCrmPhone } from '../../../connector/phones/crm-phone.ts'
import { matchKeyVariants, whatsappMatchKey } from '../../../connector/phones/whatsapp-id.ts'

const digits = (length: number) => fc.stringMatching(new RegExp(`^\\d{${length}}$`))
const countries = fc.constantFrom(...getCountries())

// A mobile number of any country: the country's example mobile with its last digits replaced.
const mobileNumber = fc
  .record({ country: countries, tail: digits(3) })
  .map(({ country, tail }) => {
    const nsn = getExampleNumber(country, examples)?.nationalNumber ?? ''
    return { country, phone: parsePhoneNumberFromString(nsn.slice(0, -3) + tail, country) }
  })
  .filter(({ phone }) => phone?.isValid() === true && phone.getType() === 'MOBILE')

interface Person {
  /** The current E.164 digits: what every form must key to. */
  key: string
  /** Forms the number takes in CRMs and in wa_ids. */
  forms: string[]
  /** National forms, read in `country`. */
  national: string[]
  country: CountryCode
}

// Brazil: area codes with mobiles (libphonenumber), 8-digit subscriber numbers that existed before the ninth digit.
const brazil: fc.Arbitrary<Person> = fc
  .record({
    area: fc.constantFrom('11', '19', '21', '27', '31', '41', '51', '61', '71', '81', '85', '92', '98'),
    first: fc.constantFrom('6', '7', '8', '9'),
    rest: digits(7),
  })
  .map(({ area, first, rest }) => {
    const eight = first + rest
    const dashed = `${eight.slice(0, 4)}-${eight.slice(4)}`
    return {
      key: `55${area}9${eight}`,
      forms: [`+55${area}9${eight}`, `55${area}9${eight}`, `55${area}${eight}`, `+55 ${area} ${dashed}`],
      national: [`(${area}) 9${dashed}`, `(${area}) ${dashed}`, `0${area} 9${eight}`],
      country: 'BR',
    }
  })

// Mexico: 2- and 3-digit area codes, 10-digit numbers.
const mexico: fc.Arbitrary<Person> = fc
  .record({ area: fc.constantFrom('55', '33', '81', '222', '664', '998'), rest: digits(8) })
  .map(({ area, rest }) => {
    const nsn = (area + rest).slice(0, 10)
    return {
      key: `52${nsn}`,
      forms: [`+52${nsn}`, `52${nsn}`, `521${nsn}`, `+52 1 ${nsn}`],
      national: [nsn, `044 ${nsn}`, `045 ${nsn}`, `01 ${nsn}`],
      country: 'MX',
    }
  })

// Argentina: area code and the subscriber ranges libphonenumber knows for it.
const argentina: fc.Arbitrary<Person> = fc
  .record({
    area: fc.constantFrom(
      { code: '11', first: '2345678' },
      { code: '351', first: '23456789' },
      { code: '341', first: '2345678' },
      { code: '261', first: '2345678' },
      { code: '221', first: '23456' },
    ),
    pick: fc.nat(),
    rest: digits(7),
  })
  .map(({ area, pick, rest }) => {
    const subscriber = (area.first[pick % area.first.length] + rest).slice(0, 10 - area.code.length)
    const nsn = area.code + subscriber
    return {
      key: `549${nsn}`,
      forms: [`+549${nsn}`, `549${nsn}`, `54${nsn}`, `+54 ${area.code} ${subscriber}`, `+54 ${area.code} 15 ${subscriber}`],
      national: [`0${area.code} 15 ${subscriber}`, `${area.code} 15-${subscriber}`],
      country: 'AR',
    }
  })

describe('normalizeCrmPhone properties', () => {
  it('gives one result for the E.164, international, national and tel: forms of a mobile number', () => {
    fc.assert(
      fc.property(mobileNumber, fc.constantFrom<CountryCode>('US', 'DE', 'BR', 'IN'), ({ country, phone }, elsewhere) => {
        if (!phone) throw new Error('filtered out')
        const expected = normalizeCrmPhone(phone.number, country)
        expect(expected).toMatchObject({ ok: true, country: phone.country })
        expect(normalizeCrmPhone(phone.formatInternational(), elsewhere)).toEqual(expected)
        expect(normalizeCrmPhone(phone.formatNational(), country)).toEqual(expected)
        expect(normalizeCrmPhone(phone.getURI(), elsewhere)).toEqual(expected)
      }),
    )
  })

  it('is the identity on the E.164 numbers it returns, whatever the default country', () => {
    const input = fc.oneof(
      mobileNumber.map(({ country, phone }) => ({ text: phone?.formatNational() ?? '', country })),
      fc.oneof(brazil, mexico, argentina).chain((person) =>
        fc.constantFrom(...person.forms, ...person.national).map((text) => ({ text, country: person.country })),
      ),
      fc.record({
        text: fc.stringMatching(/^(?:\+|0)?[1-9]\d{9,12}$/),
        country: fc.constantFrom<CountryCode>('US', 'DE', 'BR', 'MX', 'AR', 'IN', 'GB'),
      }),
    )
    fc.assert(
      fc.property(input, countries, ({ text, country }, otherCountry) => {
        const first = normalizeCrmPhone(text, country)
        if (!first.ok) return
        const again = normalizeCrmPhone(first.e164, otherCountry)
        expect(again).toMatchObject({ ok: true, e164: first.e164, country: first.country })
        // Only the Argentine guess (type FIXED_LINE_OR_MOBILE from a number without the 9) sharpens to MOBILE.
        if (!(first.country === 'AR' && first.type === 'FIXED_LINE_OR_MOBILE')) expect(again).toEqual(first)
      }),
      { numRuns: 300 },
    )
  })
})

describe('whatsappMatchKey properties', () => {
  it('gives every CRM and wa_id form of a BR, MX or AR mobile the same key', () => {
    fc.assert(
      fc.property(fc.oneof(brazil, mexico, argentina), (person) => {
        // The generators must make real numbers, or this property proves nothing.
        expect(parsePhoneNumberFromString(`+${person.key}`)?.isValid()).toBe(true)
        for (const form of person.forms) expect(whatsappMatchKey(form)).toBe(person.key)
        for (const form of person.national) {
          const normalized = normalizeCrmPhone(form, person.country)
          expect(normalized).toMatchObject({ ok: true, e164: `+${person.key}` })
          if (normalized.ok) expect(whatsappMatchKey(normalized.e164)).toBe(person.key)
        }
        const variants = matchKeyVariants(person.key)
        expect(variants[0]).toBe(person.key)
        expect(variants).toHaveLength(2)
        for (const variant of variants) expect(whatsappMatchKey(variant)).toBe(person.key)
      }),
    )
  })

  it('keeps different BR, MX and AR numbers apart', () => {
    fc.assert(
      fc.property(fc.oneof(brazil, mexico, argentina), fc.oneof(brazil, mexico, argentina), (a, b) => {
        fc.pre(a.key !== b.key)
        const keysOfA = new Set(a.forms.map(whatsappMatchKey))
        for (const form of b.forms) expect(keysOfA.has(whatsappMatchKey(form))).toBe(false)
      }),
    )
  })

  it('is idempotent, and every variant of a key keys back to it', () => {
    const anything = fc.oneof(
      fc.string(),
      fc.stringMatching(/^\+?\d{6,16}$/),
      fc.oneof(brazil, mexico, argentina).chain((person) => fc.constantFrom(...person.forms)),
      mobileNumber.map(({ phone }) => phone?.number ?? ''),
    )
    fc.assert(
      fc.property(anything, (input) => {
        const key = whatsappMatchKey(input)
        expect(whatsappMatchKey(key)).toBe(key)
        for (const variant of matchKeyVariants(input)) expect(whatsappMatchKey(variant)).toBe(key)
      }),
      { numRuns: 500 },
    )
  })
})
