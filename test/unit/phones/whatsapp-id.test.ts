import type { CountryCode } from 'libphonenumber-js/max'
import { describe, expect, it } from 'vitest'
import { normalizeCrmPhone } from '../../../connector/phones/crm-phone.ts'
import { waIdToE164 } from '../../../connector/phones/phone-number.ts'
import { currentForm, matchKeyVariants, whatsappMatchKey } from '../../../connector/phones/whatsapp-id.ts'

// Each person: the forms their number takes in CRMs and in WhatsApp ids, and the key all of them share.
const PEOPLE: { who: string; key: string; forms: string[] }[] = [
  {
    who: 'BR mobile, São Paulo, account older than the ninth digit',
    key: '5511981234567',
    forms: ['+5511981234567', '+55 (11) 98123-4567', '5511981234567', '551181234567', '+55 11 8123-4567'],
  },
  { who: 'BR mobile, Brasília', key: '5561991234567', forms: ['+5561991234567', '556191234567'] },
  // 9 then 2: a block opened after the ninth digit, so no 8-digit form; same last 8 digits as the landline below.
  { who: 'BR mobile, Rio, 9 2xxx', key: '5521923456789', forms: ['+5521923456789', '5521923456789'] },
  { who: 'BR landline, Rio', key: '552123456789', forms: ['+552123456789', '552123456789', '+55 21 2345-6789'] },
  {
    who: 'MX mobile, Mexico City',
    key: '525512345678',
    forms: ['+525512345678', '+52 55 1234 5678', '525512345678', '5215512345678', '+52 1 55 1234 5678'],
  },
  { who: 'MX, Cancún', key: '529981234567', forms: ['+529981234567', '5219981234567'] },
  {
    who: 'AR mobile, Buenos Aires',
    key: '5491123456789',
    forms: [
      '+5491123456789',
      '+54 9 11 2345-6789',
      '5491123456789',
      '541123456789',
      '+54 11 2345-6789',
      '+54 11 15 2345-6789',
    ],
  },
  // Same last 8 digits as the Buenos Aires mobile, other area code.
  { who: 'AR mobile, Córdoba', key: '5493512345678', forms: ['+5493512345678', '5493512345678', '543512345678'] },
  { who: 'AR toll-free', key: '548003331234', forms: ['+548003331234', '548003331234'] },
  {
    who: 'DE mobile',
    key: '4915123456789',
    forms: ['+4915123456789', '4915123456789', '49015123456789', '+49 (0)151 2345 6789'],
  },
  { who: 'US', key: '14155552671', forms: ['+14155552671', '14155552671', '+1 (415) 555-2671'] },
  { who: 'IN mobile', key: '919876543210', forms: ['+919876543210', '919876543210'] },
  { who: 'IT landline keeps its 0', key: '390612345678', forms: ['+390612345678', '390612345678'] },
]

describe('whatsappMatchKey', () => {
  it.each(PEOPLE.flatMap(({ who, key, forms }) => forms.map((form) => [who, form, key] as const)))(
    '%s: %j → %j',
    (_who, form, key) => {
      expect(whatsappMatchKey(form)).toBe(key)
    },
  )

  it('never gives two people of the table the same key', () => {
    const keys = PEOPLE.flatMap(({ forms }) => [...new Set(forms.map(whatsappMatchKey))])
    expect(keys).toHaveLength(PEOPLE.length)
    expect(new Set(keys).size).toBe(PEOPLE.length)
  })

  // The CRM record, normalized as segment sync does, against the wa_id Meta reports: both directions.
  it.each([
    ['BR: CRM with the ninth digit, wa_id without', '(11) 98123-4567', 'BR', '551181234567'],
    ['BR: CRM without the ninth digit, wa_id with', '(11) 8123-4567', 'BR', '5511981234567'],
    ['BR: CRM and wa_id without the ninth digit', '+55 61 9123-4567', 'DE', '556191234567'],
    ['MX: CRM without the 1, wa_id with', '+52 55 1234 5678', 'MX', '5215512345678'],
    ['MX: CRM with the 1, wa_id without', '+52 1 55 1234 5678', 'MX', '525512345678'],
    ['MX: CRM national with 044, wa_id with the 1', '044 55 1234 5678', 'MX', '5215512345678'],
    ['AR: CRM without the 9, wa_id with', '+54 11 2345-6789', 'AR', '5491123456789'],
    ['AR: CRM national with 15, wa_id with the 9', '011 15 2345-6789', 'AR', '5491123456789'],
    ['AR: CRM with the 9, wa_id without', '+54 9 11 2345-6789', 'AR', '541123456789'],
    ['AR: CRM Córdoba national, wa_id with the 9', '0351 15 234-5678', 'AR', '5493512345678'],
  ] as const)('%s', (_case, crm, country: CountryCode, waId) => {
    const normalized = normalizeCrmPhone(crm, country)
    if (!normalized.ok) throw new Error(`${crm} did not normalize: ${normalized.reason}`)
    expect(whatsappMatchKey(normalized.e164)).toBe(whatsappMatchKey(waId))
    expect(matchKeyVariants(normalized.e164)).toContain(waId)
  })

  it('takes digits with punctuation and ignores what is no digit', () => {
    expect(whatsappMatchKey(' +55 (11) 8123-4567 ')).toBe('5511981234567')
    expect(whatsappMatchKey('wa:5215512345678')).toBe('525512345678')
    expect(whatsappMatchKey('')).toBe('')
  })

  it('leaves digits alone whose rewrite would be no valid mobile', () => {
    expect(whatsappMatchKey('551012345678')).toBe('551012345678') // area code 10 does not exist
    expect(whatsappMatchKey('520123456789')).toBe('520123456789') // no Mexican number starts with 0
    expect(whatsappMatchKey('5210000000000')).toBe('5210000000000')
  })
})

describe('matchKeyVariants', () => {
  it.each([
    ['+5511981234567', ['5511981234567', '551181234567']],
    ['551181234567', ['5511981234567', '551181234567']],
    ['+525512345678', ['525512345678', '5215512345678']],
    ['5215512345678', ['525512345678', '5215512345678']],
    ['+5491123456789', ['5491123456789', '541123456789']],
    ['+541123456789', ['5491123456789', '541123456789']],
    ['+5521923456789', ['5521923456789']],
    ['+552123456789', ['552123456789']],
    ['+548003331234', ['548003331234']],
    ['+4915123456789', ['4915123456789']],
    ['520123456789', ['520123456789']],
  ])('%j → %j', (input, variants) => {
    expect(matchKeyVariants(input)).toEqual(variants)
  })
})

describe('currentForm', () => {
  it.each([
    ['551181234567', '5511981234567'],
    ['5215512345678', '525512345678'],
    ['520445512345678', '525512345678'],
    ['52018001234567', '528001234567'],
    ['541123456789', '5491123456789'],
    ['5511981234567', undefined],
    ['552123456789', undefined],
    ['548003331234', undefined],
    ['4915123456789', undefined],
  ])('%j → %j', (digits, current) => {
    expect(currentForm(digits)).toBe(current)
  })
})

describe('waIdToE164', () => {
  it('keeps the form WhatsApp reported, since that is the address that reaches the account', () => {
    expect(waIdToE164('551181234567')).toBe('+551181234567')
    expect(waIdToE164('5215512345678')).toBe('+5215512345678')
    expect(waIdToE164('541123456789')).toBe('+541123456789')
  })
})
