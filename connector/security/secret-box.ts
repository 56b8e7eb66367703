import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

// AES-256-GCM for secrets at rest. Each ciphertext names the key that sealed it, so a new
// ENCRYPTION_KEY can be introduced while old rows still open with ENCRYPTION_PREVIOUS_KEYS.
// Format: v1.<keyId>.<iv>.<tag>.<ciphertext> (base64url parts).

export class SecretBoxError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'SecretBoxError'
    this.code = code
  }
}

interface Key {
  id: string
  bytes: Buffer
}

function toKey(base64: string): Key {
  const bytes = Buffer.from(base64, 'base64')
  if (bytes.length !== 32) throw new SecretBoxError('BAD_KEY', 'An encryption key must be 32 bytes (base64)')
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes }
}

export class SecretBox {
  readonly #current: Key
  readonly #keys: Map<string, Key>

  constructor(currentKey: string, previousKeys: string[] = []) {
    this.#current = toKey(currentKey)
    this.#keys = new Map([this.#current, ...previousKeys.map(toKey)].map((k) => [k.id, k]))
  }

  get keyId(): string {
    return this.#current.id
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#current.bytes, iv)
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return ['v1', this.#current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.')
  }

  open(sealed: string): string {
    const [version, keyId, iv, tag, ct] = sealed.split('.')
    if (version !== 'v1' || !keyId || !iv || !tag || ct === undefined) throw new SecretBoxError('BAD_CIPHERTEXT', 'Not a sealed secret')
    const key = this.#keys.get(keyId)
    if (!key) throw new SecretBoxError('UNKNOWN_KEY', `Secret sealed with key ${keyId}, which is not configured (add it to ENCRYPTION_PREVIOUS_KEYS)`)
    try {
      // authTagLength pins the tag to 16 bytes: without it GCM accepts a truncated tag (4..15 bytes).
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'), { authTagLength: 16 })
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')
    } catch {
      throw new SecretBoxError('TAMPERED', 'A sealed secret failed authentication')
    }
  }

  /** True when the secret was sealed with an older key and should be re-sealed. */
  needsReseal(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#current.id
  }
}
