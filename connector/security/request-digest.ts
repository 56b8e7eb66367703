import { createHash } from 'node:crypto'

// A digest of a JSON request that does not depend on key order or spacing: what an idempotency
// key was first used with, to tell a retry from a different request under the same key.

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
}

export function requestDigest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(value)) ?? '').digest('base64url')
}
