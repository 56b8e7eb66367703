// Salesforce record ids: 3-char key prefix + 12 chars, plus a 3-char suffix that makes the
// 15-char case-sensitive id safe for case-insensitive systems (the 18-char form the API returns).

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'

export const KEY_PREFIX = {
  Organization: '00D',
  User: '005',
  Contact: '003',
  Lead: '00Q',
  Campaign: '701',
  CampaignMember: '00v',
  Task: '00T',
  ListView: '00B',
  Report: '00O',
  QueryLocator: '01g',
} as const

function suffixOf(id15: string): string {
  let suffix = ''
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i)
      if (c >= 65 && c <= 90) bits |= 1 << i
    }
    suffix += SUFFIX_CHARS[bits]
  }
  return suffix
}

function base62(n: number, width: number): string {
  let out = ''
  let rest = n
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out
    rest = Math.floor(rest / 62)
  }
  return out
}

/** A 3-char tag derived from a string, so ids of different orgs never look alike. */
export function tagOf(text: string): string {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0
  return base62(h % (62 * 62 * 62), 3)
}

/** Fixed-width base62 counters sort lexicographically in creation order, like real ids. */
export function makeId(prefix: string, tag: string, counter: number): string {
  const id15 = prefix + tag + base62(counter, 9)
  return id15 + suffixOf(id15)
}

const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$/

/**
 * 15- or 18-char id → canonical 18-char id; undefined when it is not an id at all. An 18-char id
 * is case-insensitive: its suffix says which of the first 15 characters are upper case.
 */
export function normalizeId(value: string): string | undefined {
  if (!ID_SHAPE.test(value)) return undefined
  if (value.length === 15) return value + suffixOf(value)
  let id15 = ''
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SUFFIX_CHARS.indexOf((value[15 + chunk] as string).toUpperCase())
    for (let i = 0; i < 5; i++) {
      const c = value[chunk * 5 + i] as string
      const upper = (bits & (1 << i)) !== 0
      const isLetter = /[a-zA-Z]/.test(c)
      if (upper && !isLetter) return undefined
      id15 += isLetter ? (upper ? c.toUpperCase() : c.toLowerCase()) : c
    }
  }
  return id15 + suffixOf(id15)
}
