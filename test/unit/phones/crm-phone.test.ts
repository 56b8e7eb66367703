import type { CountryCode } from 'libphonenumber-js/max'
import { describe, expect, it } from 'vitest'
import { normalizeCrmPhone } from '../../../connector/phones/crm-phone.ts'

type Expected = `+${string}` | 'missing' | 'invalid' | 'fixed_line'

// Phone values as they sit in CRM records → the E.164 number to reach on WhatsApp, or why there is none.
// Numbers are real-format but fictitious.
const CASES: [input: string | null | undefined, defaultCountry: CountryCode, expected: Expected][] = [
  // Nothing there
  [null, 'DE', 'missing'],
  [undefined, 'DE', 'missing'],
  ['', 'US', 'missing'],
  ['   ', 'US', 'missing'],
  ['\u00a0\u2007\t\n', 'US', 'missing'],
  ['\u200b\u202a\u202c', 'US', 'missing'],

  // Junk
  ['n/a', 'US', 'invalid'],
  ['call me', 'US', 'invalid'],
  ['-', 'US', 'invalid'],
  ['+', 'US', 'invalid'],
  ['12345', 'DE', 'invalid'],
  ['+44 123', 'GB', 'invalid'],
  ['555-CALL-NOW', 'US', 'invalid'],
  ['555-CALL-NOW', 'DE', 'invalid'],
  ['000 000 0000', 'US', 'invalid'],
  ['99999999999999999', 'US', 'invalid'],
  ['+49 (0)', 'DE', 'invalid'],
  ['4.91512E+12', 'DE', 'invalid'], // a spreadsheet ate it
  ['0151 2345 6789', 'US', 'invalid'], // German national form read in a US portal
  ['15 2345-6789', 'AR', 'invalid'], // Argentine mobile without its area code

  // US / CA: FIXED_LINE_OR_MOBILE, kept
  ['(415) 555-2671', 'US', '+14155552671'],
  ['415.555.2671', 'US', '+14155552671'],
  ['1-415-555-2671', 'US', '+14155552671'],
  ['+1 (415) 555-2671', 'DE', '+14155552671'],
  ['+1 415 555 2671 ext. 12', 'US', '+14155552671'],
  ['415-555-2671 x12', 'US', '+14155552671'],
  ['(415) 555-2671 #12', 'US', '+14155552671'],
  ['tel:+1-415-555-2671', 'DE', '+14155552671'],
  ['14155552671', 'DE', '+14155552671'],
  ['+1 604 555 1234', 'US', '+16045551234'],
  ['1-800-FLOWERS', 'US', 'fixed_line'],
  ['(800) 356-9377', 'US', 'fixed_line'],
  ['0049 151 23456789', 'US', '+4915123456789'],
  ['011 49 151 23456789', 'US', '+4915123456789'],

  // GB
  ['07912 345678', 'GB', '+447912345678'],
  ['+44 7912 345678', 'GB', '+447912345678'],
  ['+44 (0)7912 345678', 'DE', '+447912345678'],
  ['0044 7912 345678', 'GB', '+447912345678'],
  ['7912 345678', 'GB', '+447912345678'], // leading 0 lost in a spreadsheet
  ['+44 56 1234 5678', 'GB', '+445612345678'], // VoIP, kept
  ['020 7946 0958', 'GB', 'fixed_line'],
  ['+44 20 7946 0958 ext 123', 'GB', 'fixed_line'],
  ['0800 123 4567', 'GB', 'fixed_line'],
  ['+44 70 1234 5678', 'GB', 'fixed_line'], // personal number

  // DE
  ['0151 2345 6789', 'DE', '+4915123456789'],
  ['0151/23456789', 'DE', '+4915123456789'],
  ['0151–23456789', 'DE', '+4915123456789'],
  ['+49 151 23456789', 'US', '+4915123456789'],
  ['+49 (0)151 2345 6789', 'DE', '+4915123456789'],
  ['0049 151 23456789', 'DE', '+4915123456789'],
  ['+0049 151 23456789', 'DE', '+4915123456789'],
  ['4915123456789', 'DE', '+4915123456789'], // E.164 without '+'; the national reading is a landline
  ['15123456789', 'DE', '+4915123456789'],
  ['０１５１－２３４５６７８９', 'DE', '+4915123456789'],
  ['＋４９ １５１ ２３４５６７８９', 'US', '+4915123456789'],
  ['\u202a+49 151 23456789\u202c', 'DE', '+4915123456789'],
  ['+49\u00a0151\u202f2345\u20096789', 'DE', '+4915123456789'],
  ['Mobil: 0151 23456789 (privat)', 'DE', '+4915123456789'],
  ["'+49 151 23456789", 'DE', '+4915123456789'],
  ['"+49 151 23456789"', 'DE', '+4915123456789'],
  ['030 1234567 / 0151 23456789', 'DE', '+4915123456789'], // the mobile of two
  ['TEL:+4915123456789', 'DE', '+4915123456789'],
  ['tel:0151-23456789;phone-context=+49', 'US', '+4915123456789'],
  ['tel:+49-151-23456789;ext=5', 'US', '+4915123456789'],
  ['030 12345678', 'DE', 'fixed_line'],
  ['+49 (0)30 1234567', 'DE', 'fixed_line'],
  ['0800 1234567', 'DE', 'fixed_line'],

  // FR
  ['06 12 34 56 78', 'FR', '+33612345678'],
  ['06.12.34.56.78', 'FR', '+33612345678'],
  ['07 81 23 45 67', 'FR', '+33781234567'],
  ['+33 (0)6 12 34 56 78', 'FR', '+33612345678'],
  ['0033 6 12 34 56 78', 'DE', '+33612345678'],
  ['01 23 45 67 89', 'FR', 'fixed_line'],
  ['0800 12 34 56', 'FR', 'fixed_line'],

  // ES
  ['612 34 56 78', 'ES', '+34612345678'],
  ['+34 612 345 678', 'DE', '+34612345678'],
  ['0034 612345678', 'ES', '+34612345678'],
  ['91 234 56 78', 'ES', 'fixed_line'],
  ['900 123 456', 'ES', 'fixed_line'],

  // IT: the leading 0 of landlines belongs to the number
  ['312 345 6789', 'IT', '+393123456789'],
  ['+39 312 345 6789', 'DE', '+393123456789'],
  ['0039 312 3456789', 'IT', '+393123456789'],
  ['06 1234 5678', 'IT', 'fixed_line'],
  ['+39 06 1234 5678', 'US', 'fixed_line'],

  // NL
  ['06-12345678', 'NL', '+31612345678'],
  ['+31 6 1234 5678', 'DE', '+31612345678'],
  ['+31 (0)6 12345678', 'NL', '+31612345678'],
  ['020-123 4567', 'NL', 'fixed_line'],
  ['0800-1234', 'NL', 'fixed_line'],

  // AU
  ['0412 345 678', 'AU', '+61412345678'],
  ['04 1234 5678', 'AU', '+61412345678'],
  ['+61 412 345 678', 'GB', '+61412345678'],
  ['(02) 9876 5432', 'AU', 'fixed_line'],
  ['1300 123 456', 'AU', 'fixed_line'], // shared cost
  ['1800 123 456', 'AU', 'fixed_line'],

  // IN
  ['+91 98765 43210', 'IN', '+919876543210'],
  ['098765 43210', 'IN', '+919876543210'],
  ['98765-43210', 'IN', '+919876543210'],
  ['9876543210', 'IN', '+919876543210'],
  ['+91-9876543210', 'US', '+919876543210'],
  ['+91 (0) 98765 43210', 'IN', '+919876543210'],
  ['0091 98765 43210', 'IN', '+919876543210'],
  ['919876543210', 'IN', '+919876543210'],
  ['919876543210', 'US', '+919876543210'],
  ['022 2345 6789', 'IN', 'fixed_line'],
  ['1800 123 4567', 'IN', 'fixed_line'],

  // BR
  ['(11) 91234-5678', 'BR', '+5511912345678'],
  ['11 91234-5678', 'BR', '+5511912345678'],
  ['+55 (11) 91234-5678', 'US', '+5511912345678'],
  ['011 91234-5678', 'BR', '+5511912345678'],
  ['021 11 91234-5678', 'BR', '+5511912345678'], // carrier selection code 21
  ['(0xx11) 9 1234-5678', 'BR', '+5511912345678'],
  ['5511912345678', 'US', '+5511912345678'],
  ['(11) 8123-4567', 'BR', '+5511981234567'], // mobile written before the ninth digit
  ['(11) 6123-4567', 'BR', '+5511961234567'],
  ['+55 61 8123-4567', 'US', '+5561981234567'],
  ['+556181234567', 'DE', '+5561981234567'],
  ['(21) 2345-6789', 'BR', 'fixed_line'],
  ['+55 11 3123-4567', 'BR', 'fixed_line'],
  ['0800 123 4567', 'BR', 'fixed_line'],

  // MX: the "1" after +52 and the 044/045/01 prefixes are gone since 2019
  ['55 1234 5678', 'MX', '+525512345678'],
  ['(55) 1234-5678', 'MX', '+525512345678'],
  ['+52 55 1234 5678', 'US', '+525512345678'],
  ['+52 1 55 1234 5678', 'US', '+525512345678'],
  ['521 55 1234 5678', 'MX', '+525512345678'],
  ['5215512345678', 'US', '+525512345678'],
  ['044 55 1234 5678', 'MX', '+525512345678'],
  ['045 33 1234 5678', 'MX', '+523312345678'],
  ['01 81 1234 5678', 'MX', '+528112345678'],
  ['+52 1 (998) 123 4567', 'MX', '+529981234567'],
  ['800 123 4567', 'MX', 'fixed_line'],
  ['01 800 123 4567', 'MX', 'fixed_line'],

  // AR: mobiles are +54 9 <area> <number>; nationally 0 <area> 15 <number>
  ['+54 9 11 2345-6789', 'US', '+5491123456789'],
  ['011 15 2345-6789', 'AR', '+5491123456789'],
  ['11 15 2345-6789', 'AR', '+5491123456789'],
  ['(011) 15-2345-6789', 'AR', '+5491123456789'],
  ['+54 11 15 2345-6789', 'AR', '+5491123456789'],
  ['549 11 2345 6789', 'US', '+5491123456789'],
  ['0351 15 423-4567', 'AR', '+5493514234567'],
  ['+54 9 351 423 4567', 'AR', '+5493514234567'],
  ['+54 11 2345-6789', 'AR', '+5491123456789'], // without the 9: may be a mobile, see below
  ['011 4567-8901', 'AR', '+5491145678901'],
  ['0800 333 1234', 'AR', 'fixed_line'],
]

describe('normalizeCrmPhone', () => {
  it.each(CASES)('%j (default %s) → %s', (input, defaultCountry, expected) => {
    const result = normalizeCrmPhone(input, defaultCountry)
    if (expected.startsWith('+')) expect(result).toMatchObject({ ok: true, e164: expected })
    else expect(result).toEqual({ ok: false, reason: expected })
  })

  it('covers every country the brief names with at least one kept and one rejected number', () => {
    const countriesKept = new Set(
      CASES.flatMap(([input, country]) => {
        const result = normalizeCrmPhone(input, country)
        return result.ok && result.country ? [result.country] : []
      }),
    )
    expect([...countriesKept].sort()).toEqual(['AR', 'AU', 'BR', 'CA', 'DE', 'ES', 'FR', 'GB', 'IN', 'IT', 'MX', 'NL', 'US'])
    expect(CASES.length).toBeGreaterThanOrEqual(60)
  })

  it.each([
    ['+49 151 23456789', { ok: true, e164: '+4915123456789', country: 'DE', type: 'MOBILE' }],
    ['+1 415 555 2671', { ok: true, e164: '+14155552671', country: 'US', type: 'FIXED_LINE_OR_MOBILE' }],
    ['+1 604 555 1234', { ok: true, e164: '+16045551234', country: 'CA', type: 'FIXED_LINE_OR_MOBILE' }],
    ['+44 56 1234 5678', { ok: true, e164: '+445612345678', country: 'GB', type: 'VOIP' }],
    ['+52 1 55 1234 5678', { ok: true, e164: '+525512345678', country: 'MX', type: 'FIXED_LINE_OR_MOBILE' }],
    ['+55 11 8123-4567', { ok: true, e164: '+5511981234567', country: 'BR', type: 'MOBILE' }],
    ['+54 9 11 2345 6789', { ok: true, e164: '+5491123456789', country: 'AR', type: 'MOBILE' }],
    // The 9 is our guess: libphonenumber cannot tell an Argentine landline from a mobile written without it.
    ['+54 11 2345 6789', { ok: true, e164: '+5491123456789', country: 'AR', type: 'FIXED_LINE_OR_MOBILE' }],
    // A satellite mobile belongs to no country.
    ['+870 773 111 632', { ok: true, e164: '+870773111632', country: undefined, type: 'MOBILE' }],
  ])('%j reports country and type: %j', (input, expected) => {
    expect(normalizeCrmPhone(input, 'DE')).toEqual(expected)
  })

  it.each([
    ['2482873574', 'US', '+12482873574'], // not +248 287 3574 (Seychelles)
    ['6592914132', 'IN', '+916592914132'], // not +65 9291 4132 (Singapore)
    ['358 478 9204', 'IT', '+393584789204'], // not +358 47 892 04 (Finland)
  ] as const)('reads bare digits %j as a national number of %s when it is one we keep', (input, country, e164) => {
    expect(normalizeCrmPhone(input, country)).toMatchObject({ ok: true, e164, country })
  })

  it('reads bare digits internationally when the national reading is no number we keep', () => {
    // Read nationally: +49 4915123456789, a landline; read internationally: a German mobile.
    expect(normalizeCrmPhone('4915123456789', 'DE')).toMatchObject({ ok: true, e164: '+4915123456789' })
    // Nationally a German landline; internationally +41 55 552 671, too short for Switzerland.
    expect(normalizeCrmPhone('4155552671', 'DE')).toEqual({ ok: false, reason: 'fixed_line' })
  })
})
