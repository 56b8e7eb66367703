import nock from 'nock'
import { expect } from 'vitest'
import { CrmError, type CrmCallObserver, type TokenSource } from '../../../crm-adapters/crm-adapter.ts'
import { SalesforceAdapter, type SalesforceAdapterOptions } from '../../../crm-adapters/salesforce/salesforce-adapter.ts'

// Shared pieces of the Salesforce nock tests: an org at a My Domain, a token source that counts
// refreshes, an observer that records every call, and ids shaped like Salesforce's.

export const INSTANCE = 'https://acme.my.salesforce.com'
export const API = '/services/data/v62.0'
/** The package's fields as manifest.json names them (unprefixed). */
export const PACKAGE_FIELDS = { optIn: 'WhatsApp_Opt_In__c', optInDate: 'WhatsApp_Opt_In_Date__c', messageId: 'WhatsApp_Message_Id__c' }

/** An 18-character id with the given key prefix (003 Contact, 00Q Lead, 701 Campaign, …). */
export function sfId(prefix: string, n: number): string {
  return `${prefix}Dn0000${String(n).padStart(6, '0')}AAA`
}

export const limitInfo = (used: number, max = 100_000) => ({ 'Sforce-Limit-Info': `api-usage=${used}/${max}` })

export function fakeTokens(first = 'token-1', next = 'token-2') {
  const rejected: string[] = []
  let current = first
  const tokens: TokenSource = {
    accessToken: async () => current,
    refreshAfterRejection: async (token) => {
      rejected.push(token)
      current = next
      return current
    },
  }
  return { tokens, rejected }
}

export function recorder() {
  const calls: Array<{ endpoint: string; status: number | 'error' }> = []
  const usage: Array<{ used: number; max: number }> = []
  const observer: CrmCallObserver = {
    onCall: ({ endpoint, status }) => calls.push({ endpoint, status }),
    onApiUsage: (u) => usage.push(u),
  }
  return { calls, usage, observer }
}

export function makeAdapter(options: Partial<SalesforceAdapterOptions> = {}) {
  const { tokens, rejected } = fakeTokens()
  const { calls, usage, observer } = recorder()
  const adapter = new SalesforceAdapter({ instanceUrl: INSTANCE, apiVersion: '62.0', fields: PACKAGE_FIELDS, tokens, observer, retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 }, ...options })
  return { adapter, calls, usage, rejected }
}

export function sf(): nock.Scope {
  return nock(INSTANCE)
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

export function queryBody(records: unknown[], nextRecordsUrl?: string, totalSize = records.length) {
  return { totalSize, done: nextRecordsUrl === undefined, ...(nextRecordsUrl ? { nextRecordsUrl } : {}), records }
}

export function row(type: string, id: string, fields: Record<string, unknown>) {
  return { attributes: { type, url: `${API}/sobjects/${type}/${id}` }, Id: id, ...fields }
}

/** The CrmError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<CrmError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(CrmError)
  return error as CrmError
}
