import { describe, expect, it } from 'vitest'
import { SecretBox, SecretBoxError } from '../../connector/security/secret-box.ts'

const KEY_A = Buffer.alloc(32, 0xa1).toString('base64')
const KEY_B = Buffer.alloc(32, 0xb2).toString('base64')
const KEY_C = Buffer.alloc(32, 0xc3).toString('base64')

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SecretBoxError)
    return (error as SecretBoxError).code
  }
  return undefined
}

/** Re-encodes one base64url part with byte `index` flipped. */
function flipByte(part: string, index: number): string {
  const bytes = Buffer.from(part, 'base64url')
  bytes[index]! ^= 0x01
  return bytes.toString('base64url')
}

describe('SecretBox', () => {
  it('round-trips text, including empty and non-ASCII', () => {
    const box = new SecretBox(KEY_A)
    for (const text of ['EAAG-access-token', '', 'pässwörd ✓ 密码', 'x'.repeat(10_000)]) {
      expect(box.open(box.seal(text))).toBe(text)
    }
  })

  it('seals into v1.<keyId>.<iv>.<tag>.<ct> without the plaintext in it', () => {
    const box = new SecretBox(KEY_A)
    const sealed = box.seal('EAAG-access-token')
    const parts = sealed.split('.')
    expect(parts).toHaveLength(5)
    expect(parts[0]).toBe('v1')
    expect(parts[1]).toBe(box.keyId)
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(12)
    expect(Buffer.from(parts[3]!, 'base64url')).toHaveLength(16)
    expect(sealed).not.toContain('EAAG')
  })

  it('two seals of the same text differ', () => {
    const box = new SecretBox(KEY_A)
    const a = box.seal('same')
    const b = box.seal('same')
    expect(a).not.toBe(b)
    expect(a.split('.')[2]).not.toBe(b.split('.')[2])
    expect([box.open(a), box.open(b)]).toEqual(['same', 'same'])
  })

  it.each([['iv', 2], ['tag', 3], ['ciphertext', 4]] as const)('flipping any byte of the %s fails with TAMPERED', (_name, index) => {
    const box = new SecretBox(KEY_A)
    const sealed = box.seal('a secret worth protecting')
    const parts = sealed.split('.')
    const length = Buffer.from(parts[index]!, 'base64url').length
    expect(length).toBeGreaterThan(0)
    for (let i = 0; i < length; i++) {
      const tampered = [...parts]
      tampered[index] = flipByte(parts[index]!, i)
      expect(codeOf(() => box.open(tampered.join('.')))).toBe('TAMPERED')
    }
  })

  it('a truncated or extended tag fails with TAMPERED', () => {
    const box = new SecretBox(KEY_A)
    const parts = box.seal('a secret').split('.')
    const tag = Buffer.from(parts[3]!, 'base64url')
    for (const bad of [tag.subarray(0, 4), tag.subarray(0, 12), tag.subarray(0, 15), Buffer.concat([tag, Buffer.from([0])])]) {
      const tampered = [...parts]
      tampered[3] = bad.toString('base64url')
      expect(codeOf(() => box.open(tampered.join('.')))).toBe('TAMPERED')
    }
  })

  it('removing or appending ciphertext fails with TAMPERED', () => {
    const box = new SecretBox(KEY_A)
    const parts = box.seal('a secret').split('.')
    const ct = Buffer.from(parts[4]!, 'base64url')
    for (const bad of [ct.subarray(1), ct.subarray(0, -1), Buffer.concat([ct, Buffer.from([0])]), Buffer.alloc(0)]) {
      const tampered = [...parts]
      tampered[4] = bad.toString('base64url')
      expect(codeOf(() => box.open(tampered.join('.')))).toBe('TAMPERED')
    }
  })

  it('a changed key id fails with UNKNOWN_KEY; a bad shape with BAD_CIPHERTEXT', () => {
    const box = new SecretBox(KEY_A)
    const parts = box.seal('x').split('.')
    expect(codeOf(() => box.open(['v1', 'deadbeef', ...parts.slice(2)].join('.')))).toBe('UNKNOWN_KEY')
    expect(codeOf(() => box.open(['v2', ...parts.slice(1)].join('.')))).toBe('BAD_CIPHERTEXT')
    expect(codeOf(() => box.open(parts.slice(0, 4).join('.')))).toBe('BAD_CIPHERTEXT')
    expect(codeOf(() => box.open('plain text token'))).toBe('BAD_CIPHERTEXT')
    expect(codeOf(() => box.open(''))).toBe('BAD_CIPHERTEXT')
  })

  describe('key rotation', () => {
    const old = new SecretBox(KEY_A)
    const sealedOld = old.seal('old token')

    it('a box with the old key among the previous keys opens old ciphertexts and asks for a reseal', () => {
      const rotated = new SecretBox(KEY_B, [KEY_C, KEY_A])
      expect(rotated.keyId).not.toBe(old.keyId)
      expect(rotated.open(sealedOld)).toBe('old token')
      expect(rotated.needsReseal(sealedOld)).toBe(true)
      const resealed = rotated.seal(rotated.open(sealedOld))
      expect(rotated.needsReseal(resealed)).toBe(false)
      expect(rotated.open(resealed)).toBe('old token')
      expect(resealed.split('.')[1]).toBe(rotated.keyId)
    })

    it('the original box does not need a reseal for its own ciphertext', () => {
      expect(old.needsReseal(sealedOld)).toBe(false)
    })

    it('a box without the old key fails with UNKNOWN_KEY', () => {
      expect(codeOf(() => new SecretBox(KEY_B).open(sealedOld))).toBe('UNKNOWN_KEY')
      expect(codeOf(() => new SecretBox(KEY_B, [KEY_C]).open(sealedOld))).toBe('UNKNOWN_KEY')
    })

    it('the old box cannot open what the new key sealed', () => {
      expect(codeOf(() => old.open(new SecretBox(KEY_B).seal('new')))).toBe('UNKNOWN_KEY')
    })
  })

  it.each([
    ['16 bytes', Buffer.alloc(16, 1).toString('base64')],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['empty', ''],
  ])('a current key of %s throws BAD_KEY', (_name, key) => {
    expect(codeOf(() => new SecretBox(key))).toBe('BAD_KEY')
  })

  it('a previous key of the wrong length throws BAD_KEY', () => {
    expect(codeOf(() => new SecretBox(KEY_A, [Buffer.alloc(24, 1).toString('base64')]))).toBe('BAD_KEY')
  })
})
