import { describe, expect, it } from 'vitest'
import { e164ToWaId, InvalidPhoneError, requireE164, toE164, waIdToE164 } from '../../connector/phones/phone-number.ts'

describe('requireE164', () => {
  it.each([
    ['+4915123456789', '+4915123456789'],
    [' +4915123456789 ', '+4915123456789'],
    ['+31612345678', '+31612345678'],
    ['+14155552671', '+14155552671'],
    ['+4930123456', '+4930123456'],
  ])('%j → %j', (input, expected) => {
    expect(requireE164(input)).toBe(expected)
  })

  it.each([
    ['national form', '015123456789'],
    ['digits without +', '4915123456789'],
    ['spaces inside', '+49 151 23456789'],
    ['dashes', '+1-415-555-2671'],
    ['letters', '+49151ABC6789'],
    ['too short', '+49151'],
    ['16 digits', '+4915123456789012'],
    ['not a valid number', '+4900000000'],
    ['empty', ''],
    ['plus only', '+'],
  ])('refuses %s (%j) with INVALID_PHONE', (_name, input) => {
    let caught: unknown
    try {
      requireE164(input)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InvalidPhoneError)
    expect((caught as InvalidPhoneError).code).toBe('INVALID_PHONE')
  })

  it('shortens very long input in the error message', () => {
    const input = `+${'9'.repeat(100)}`
    expect(() => requireE164(input)).toThrow(/…$/)
  })
})

describe('toE164', () => {
  it.each([
    ['+4915123456789', undefined, '+4915123456789'],
    ['+49 151 2345 6789', undefined, '+4915123456789'],
    ['015123456789', 'DE', '+4915123456789'],
    ['0151 2345 6789', 'DE', '+4915123456789'],
    ['06 12345678', 'NL', '+31612345678'],
    ['(415) 555-2671', 'US', '+14155552671'],
  ] as const)('%j (default %s) → %j', (input, country, expected) => {
    expect(toE164(input, country)).toBe(expected)
  })

  it.each([
    ['015123456789', undefined],
    ['+4900000000', undefined],
    ['not a phone', 'DE'],
    ['', 'DE'],
  ] as const)('%j (default %s) → undefined', (input, country) => {
    expect(toE164(input, country)).toBeUndefined()
  })
})

describe('wa_id ↔ E.164', () => {
  it.each([
    ['4915123456789', '+4915123456789'],
    ['31612345678', '+31612345678'],
    ['14155552671', '+14155552671'],
  ])('waIdToE164(%j) → %j', (waId, e164) => {
    expect(waIdToE164(waId)).toBe(e164)
    expect(e164ToWaId(e164)).toBe(waId)
  })

  it('normalizes through libphonenumber: a trunk 0 after the country code goes, an Italian leading 0 stays', () => {
    expect(waIdToE164('49015123456789')).toBe('+4915123456789')
    expect(waIdToE164('390612345678')).toBe('+390612345678')
  })

  it('keeps the digits of a wa_id that is not a valid number', () => {
    expect(waIdToE164('123')).toBe('+123')
  })

  it('e164ToWaId drops everything but digits', () => {
    expect(e164ToWaId('+49 151 2345-6789')).toBe('4915123456789')
  })
})
