// Recognises opt-out and opt-in keywords in what a person sends on WhatsApp. The whole message
// must be the keyword ("STOP", "Stop!", "  arrêt. "), so "don't stop" or "stop by tomorrow" are
// not opt-outs. Case, accents, surrounding punctuation and inner spacing are ignored.

export type KeywordIntent = 'opt_out' | 'opt_in'

export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase()
    .replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '')
    .replace(/[\s_-]+/g, ' ')
}

export class KeywordMatcher {
  readonly #optOut: Set<string>
  readonly #optIn: Set<string>

  constructor(optOut: string[], optIn: string[]) {
    this.#optOut = new Set(optOut.map(normalizeKeyword).filter(Boolean))
    this.#optIn = new Set(optIn.map(normalizeKeyword).filter(Boolean))
  }

  match(text: string | undefined): KeywordIntent | undefined {
    if (!text || text.length > 64) return undefined
    const key = normalizeKeyword(text)
    if (this.#optOut.has(key)) return 'opt_out'
    if (this.#optIn.has(key)) return 'opt_in'
    return undefined
  }
}
