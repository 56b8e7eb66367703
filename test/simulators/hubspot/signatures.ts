// HubSpot request signatures (same algorithms as @hubspot/api-client's Signature.getSignature).
import { createHash, createHmac } from 'node:crypto'

/** v1: hex SHA-256 of clientSecret + body (webhook deliveries). */
export function signatureV1(clientSecret: string, body: string): string {
  return createHash('sha256').update(clientSecret + body).digest('hex')
}

/** v2: hex SHA-256 of clientSecret + method + full URL + body (workflow actions, legacy cards). */
export function signatureV2(clientSecret: string, method: string, url: string, body: string): string {
  return createHash('sha256').update(clientSecret + method + url + body).digest('hex')
}

/** v3: base64 HMAC-SHA256 keyed by clientSecret over method + full URL + body + timestamp. */
export function signatureV3(clientSecret: string, method: string, url: string, body: string, timestamp: number): string {
  return createHmac('sha256', clientSecret).update(method + url + body + String(timestamp)).digest('base64')
}

/**
 * Headers HubSpot sends with a signed request: the v1 or v2 `X-HubSpot-Signature` (with its
 * version header) and always the v3 signature with its millisecond timestamp.
 */
export function signedHeaders(
  legacyVersion: 'v1' | 'v2',
  clientSecret: string,
  method: string,
  url: string,
  body: string,
  timestamp = Date.now(),
): Record<string, string> {
  return {
    'x-hubspot-signature': legacyVersion === 'v1' ? signatureV1(clientSecret, body) : signatureV2(clientSecret, method, url, body),
    'x-hubspot-signature-version': legacyVersion,
    'x-hubspot-signature-v3': signatureV3(clientSecret, method, url, body, timestamp),
    'x-hubspot-request-timestamp': String(timestamp),
  }
}
