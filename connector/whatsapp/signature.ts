import { createHmac, timingSafeEqual } from 'node:crypto'

// X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(app secret, raw body), checked on the exact
// bytes received, in constant time (reference whatsapp.md §4.2).

export function signWebhookBody(raw: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`
}

export function verifyWebhookSignature(raw: Buffer, header: string | undefined, appSecret: string): boolean {
  if (!header || !header.startsWith('sha256=')) return false
  const hex = header.slice('sha256='.length)
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false
  const got = Buffer.from(hex, 'hex')
  const expected = createHmac('sha256', appSecret).update(raw).digest()
  return got.length === expected.length && timingSafeEqual(got, expected)
}
