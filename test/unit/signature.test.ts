import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { signWebhookBody, verifyWebhookSignature } from '../../connector/whatsapp/signature.ts'

const SECRET = 'test-app-secret'
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/whatsapp/${name}`, import.meta.url))

describe('verifyWebhookSignature', () => {
  it('accepts the known-answer vector (HMAC-SHA256, GitHub documented example)', () => {
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'
    expect(verifyWebhookSignature(Buffer.from('Hello, World!'), header, "It's a Secret to Everybody")).toBe(true)
    expect(signWebhookBody('Hello, World!', "It's a Secret to Everybody")).toBe(header)
    expect(signWebhookBody(Buffer.from('Hello, World!'), "It's a Secret to Everybody")).toBe(header)
  })

  it('rejects the known-answer signature for a different body or secret', () => {
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'
    expect(verifyWebhookSignature(Buffer.from('Hello, World?'), header, "It's a Secret to Everybody")).toBe(false)
    expect(verifyWebhookSignature(Buffer.from('Hello, World!'), header, "It's a secret to everybody")).toBe(false)
  })

  it('accepts a signature over the exact raw bytes of a fixture file', () => {
    const raw = fixture('status_sent.json')
    const header = signWebhookBody(raw, SECRET)
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/)
    expect(verifyWebhookSignature(raw, header, SECRET)).toBe(true)
  })

  it('rejects the same payload re-serialized (different bytes, same JSON)', () => {
    const raw = fixture('status_sent.json')
    const header = signWebhookBody(raw, SECRET)
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))))
    expect(reserialized.equals(raw)).toBe(false)
    expect(JSON.parse(reserialized.toString('utf8'))).toEqual(JSON.parse(raw.toString('utf8')))
    expect(verifyWebhookSignature(reserialized, header, SECRET)).toBe(false)
  })

  it('treats \\uXXXX-escaped and raw UTF-8 non-ASCII as different bytes', () => {
    const escaped = Buffer.from('{"profile":{"name":"J\\u00fcrgen M\\u00fcller"}}', 'utf8')
    const utf8 = Buffer.from('{"profile":{"name":"Jürgen Müller"}}', 'utf8')
    expect(JSON.parse(escaped.toString('utf8'))).toEqual(JSON.parse(utf8.toString('utf8')))
    const header = signWebhookBody(escaped, SECRET)
    expect(verifyWebhookSignature(escaped, header, SECRET)).toBe(true)
    expect(verifyWebhookSignature(utf8, header, SECRET)).toBe(false)
  })

  it('accepts uppercase hex', () => {
    const raw = fixture('inbound_text.json')
    const hex = signWebhookBody(raw, SECRET).slice('sha256='.length)
    expect(/[a-f]/.test(hex)).toBe(true) // otherwise upper-casing would prove nothing
    expect(verifyWebhookSignature(raw, `sha256=${hex.toUpperCase()}`, SECRET)).toBe(true)
  })

  it('signs and verifies an empty body, and the empty body signature does not verify other bodies', () => {
    const empty = Buffer.alloc(0)
    const header = signWebhookBody(empty, SECRET)
    expect(verifyWebhookSignature(empty, header, SECRET)).toBe(true)
    expect(verifyWebhookSignature(Buffer.from('{}'), header, SECRET)).toBe(false)
    expect(verifyWebhookSignature(empty, signWebhookBody(Buffer.from('{}'), SECRET), SECRET)).toBe(false)
  })

  describe('rejects malformed headers', () => {
    const raw = fixture('status_delivered.json')
    const good = signWebhookBody(raw, SECRET)
    const hex = good.slice('sha256='.length)

    it.each([
      ['missing header', undefined],
      ['empty header', ''],
      ['no sha256= prefix', hex],
      ['sha1= prefix', `sha1=${hex}`],
      ['uppercase prefix', `SHA256=${hex}`],
      ['prefix only', 'sha256='],
      ['one hex digit short', `sha256=${hex.slice(0, 63)}`],
      ['one hex digit too many', `sha256=${hex}0`],
      ['one byte short', `sha256=${hex.slice(0, 62)}`],
      ['non-hex character', `sha256=${hex.slice(0, 63)}g`],
      ['surrounding whitespace', ` ${good} `],
      ['one digit changed', `sha256=${hex.slice(0, 63)}${hex.endsWith('0') ? '1' : '0'}`],
    ])('%s', (_name, header) => {
      expect(verifyWebhookSignature(raw, header, SECRET)).toBe(false)
    })

    it('the untouched header passes (control)', () => {
      expect(verifyWebhookSignature(raw, good, SECRET)).toBe(true)
    })
  })

  it('rejects a signature made with another secret', () => {
    const raw = fixture('status_read.json')
    expect(verifyWebhookSignature(raw, signWebhookBody(raw, 'another-secret'), SECRET)).toBe(false)
  })
})
