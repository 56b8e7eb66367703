import { readFileSync } from 'node:fs'
import { signWebhookBody } from '../../connector/whatsapp/signature.ts'
import { TEST_APP_SECRET } from './test-config.ts'

export function fixture(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')
}

export function fixtureJson<T = any>(path: string): T {
  return JSON.parse(fixture(path)) as T
}

/** Headers Meta sends with a body signed by the test app secret. */
export function signedHeaders(body: string | Buffer, secret = TEST_APP_SECRET): Record<string, string> {
  return { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, secret) }
}

/** A status webhook in the shape of test/fixtures/whatsapp/status_*.json. */
export function statusWebhook(s: { wamid: string; status: string; timestamp: number; recipient?: string; callbackData?: string; errorCode?: number }): string {
  const body = fixtureJson('whatsapp/status_sent.json')
  const status = body.entry[0].changes[0].value.statuses[0]
  status.id = s.wamid
  status.status = s.status
  status.timestamp = String(s.timestamp)
  status.recipient_id = s.recipient ?? '4915123456789'
  if (s.callbackData) status.biz_opaque_callback_data = s.callbackData
  else delete status.biz_opaque_callback_data
  if (s.errorCode !== undefined) {
    delete status.pricing
    delete status.conversation
    status.errors = [{ code: s.errorCode, title: 'error', message: 'error', error_data: { details: 'details' } }]
  }
  return JSON.stringify(body)
}
