import { timingSafeEqual } from 'node:crypto'
import { Signature } from '@hubspot/api-client'
import type { SignatureProblem, SignedRequest } from '../crm-provider.ts'

// HubSpot's v3 request signature: base64 HMAC-SHA256 keyed by the app's client secret over
// method + full URL + raw body + X-HubSpot-Request-Timestamp; requests older than 5 minutes are
// refused (reference hubspot.md §6). The SDK computes it; its isValid compares with ===, so the
// comparison here is constant-time.

/** The SDK's window for v3 timestamps (Signature.MAX_ALLOWED_TIMESTAMP, 300,000 ms). */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

export function checkHubSpotV3(request: SignedRequest, clientSecret: string): SignatureProblem | undefined {
  const signature = header(request.headers, 'x-hubspot-signature-v3')
  const timestamp = header(request.headers, 'x-hubspot-request-timestamp')
  if (!signature || !timestamp || !/^\d{10,16}$/.test(timestamp)) return 'missing'
  if (Math.abs((request.now ?? Date.now()) - Number(timestamp)) > MAX_SIGNATURE_AGE_MS) return 'stale'
  const expected = Buffer.from(Signature.getSignature(request.method, 'v3', {
    // The SDK's options type asks for the signature it is compared with; computing needs none.
    signature: '',
    clientSecret,
    requestBody: request.rawBody.toString('utf8'),
    url: request.url,
    timestamp: Number(timestamp),
  }), 'base64')
  const got = Buffer.from(signature, 'base64')
  return got.length === expected.length && timingSafeEqual(got, expected) ? undefined : 'mismatch'
}
