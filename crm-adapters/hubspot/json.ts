// Narrowing HubSpot's JSON without trusting it: absent or odd fields become undefined.

export type Json = Record<string, unknown>

export function asRecord(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {}
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

export function asNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

/** Splits `items` into runs of at most `size` (HubSpot batch endpoints cap their inputs). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Epoch ms from HubSpot's date forms: epoch-millisecond strings or ISO-8601. NaN when neither. */
export function parseTime(value: string | undefined): number {
  if (value === undefined) return Number.NaN
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value)
}
