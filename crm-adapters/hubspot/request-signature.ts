import { createHmac, timingSafeEqual } from 'node:crypto'

// HubSpot's v3 request signature: base64 HMAC-SHA256 keyed by the app's client secret over
// method + full URL + raw body + X-HubSpot-Request-Timestamp; requests older than 5 minutes are
// refused (reference hubspot.md §6; @hubspot/api-client src/utils/signature.ts).

export const MAX_SIGNATURE_AGE_MS = 5 * 60_000

export type SignatureProblem = 'missing' | 'stale' | 'mismatch'

export function checkHubSpotV3(input: {
  method: string
  url: string
  rawBody: Buffer
  signature: string | undefined
  timestamp: string | undefined
  clientSecret: string
  now?: number
}): SignatureProblem | undefined {
  if (!input.signature || !input.timestamp || !/^\d{10,16}$/.test(input.timestamp)) return 'missing'
  const ts = Number(input.timestamp)
  if (Math.abs((input.now ?? Date.now()) - ts) > MAX_SIGNATURE_AGE_MS) return 'stale'
  const expected = createHmac('sha256', input.clientSecret)
    .update(Buffer.concat([Buffer.from(input.method + input.url, 'utf8'), input.rawBody, Buffer.from(input.timestamp, 'utf8')]))
    .digest()
  const got = Buffer.from(input.signature, 'base64')
  return got.length === expected.length && timingSafeEqual(got, expected) ? undefined : 'mismatch'
}
