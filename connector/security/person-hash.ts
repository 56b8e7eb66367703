import { createHmac } from 'node:crypto'

// The salt of erasure hashes: an HMAC-SHA256 key derived from the encryption key, handed to SQL as
// the inner and outer pads HMAC is defined by, so person_hash computes the same HMAC with core sha256.

const BLOCK = 64

const erasureKey = (encryptionKey: string): Buffer => createHmac('sha256', encryptionKey).update('person-erasure-hash').digest()

export function personHashPads(encryptionKey: string): { innerPad: Buffer; outerPad: Buffer } {
  const block = Buffer.alloc(BLOCK)
  erasureKey(encryptionKey).copy(block)
  return { innerPad: Buffer.from(block.map((b) => b ^ 0x36)), outerPad: Buffer.from(block.map((b) => b ^ 0x5c)) }
}

/** What person_hash(value) answers for this encryption key, computed in Node (tests compare the two). */
export function personHash(encryptionKey: string, value: string): string {
  return `erased:${createHmac('sha256', erasureKey(encryptionKey)).update(value, 'utf8').digest('hex')}`
}
