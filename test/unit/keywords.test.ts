import { describe, expect, it } from 'vitest'
import { DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS } from '../../connector/config.ts'
import { KeywordMatcher, normalizeKeyword } from '../../connector/consent/keywords.ts'

const matcher = new KeywordMatcher(DEFAULT_OPT_OUT_KEYWORDS, DEFAULT_OPT_IN_KEYWORDS)

describe('KeywordMatcher with the default keywords', () => {
  it.each([
    'STOP', 'stop', 'Stop!', ' stop. ', 'STOP PROMOTIONS', 'Stop promotions', 'stop  promotions',
    'UNSUBSCRIBE', 'CANCEL', 'PARAR', 'Baja', 'arrêt', 'ARRET', 'Arrêt!', 'STOPP', 'ALTO', '¡Alto!',
    'stop\n', '\tSTOP\t', 'stop-promotions', 'Opt out', 'optout', 'ＳＴＯＰ',
    // NFD-decomposed "arrête" without the final e: "arre\u0302t"
    'arre\u0302t',
  ])('%j → opt_out', (text) => {
    expect(matcher.match(text)).toBe('opt_out')
  })

  it.each(['START', 'start', 'Start!', ' Resume promotions ', 'UNSTOP', 'opt-in'])('%j → opt_in', (text) => {
    expect(matcher.match(text)).toBe('opt_in')
  })

  it.each([
    ["don't stop"],
    ['stop by tomorrow'],
    ['stopping'],
    ['STOPS'],
    ['S TOP'],
    ['please stop'],
    ['stop stop'],
    ['starting'],
    [''],
    ['   '],
    ['!!!'],
    [undefined],
    [`STOP ${'x'.repeat(195)}`],
  ])('%j → no intent', (text) => {
    expect(matcher.match(text)).toBeUndefined()
  })

  it('ignores a 200-character message even when it is STOP padded with spaces', () => {
    const text = `${' '.repeat(98)}STOP${' '.repeat(98)}`
    expect(text).toHaveLength(200)
    expect(matcher.match(text)).toBeUndefined()
  })
})

describe('KeywordMatcher with a custom list', () => {
  const custom = new KeywordMatcher(['HALT'], ['GO ON'])

  it('matches only its own keywords', () => {
    expect(custom.match('halt')).toBe('opt_out')
    expect(custom.match('Halt!')).toBe('opt_out')
    expect(custom.match('go  on')).toBe('opt_in')
    expect(custom.match('STOP')).toBeUndefined()
    expect(custom.match('START')).toBeUndefined()
  })

  it('ignores empty and punctuation-only keywords in the configuration', () => {
    const m = new KeywordMatcher(['', ' ', '!!', 'HALT'], [])
    expect(m.match('!!')).toBeUndefined()
    expect(m.match(' ')).toBeUndefined()
    expect(m.match('halt')).toBe('opt_out')
  })

  it('opt-out wins when a word is in both lists', () => {
    expect(new KeywordMatcher(['STOP'], ['stop']).match('Stop')).toBe('opt_out')
  })
})

describe('normalizeKeyword', () => {
  it.each([
    ['  Stop! ', 'STOP'],
    ['arrêt', 'ARRET'],
    ['¡Alto!', 'ALTO'],
    ['stop  promotions', 'STOP PROMOTIONS'],
    ['stop_promotions', 'STOP PROMOTIONS'],
    ['opt-out', 'OPT OUT'],
    ["don't stop", "DON'T STOP"],
    ['...', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeKeyword(input)).toBe(expected)
  })
})
