// Fakes shared by the HubSpot adapter unit tests.
import nock from 'nock'
import { afterEach, beforeEach } from 'vitest'
import type { TokenSource } from '../../../crm-adapters/crm-adapter.ts'
import type { Clock } from '../../../crm-adapters/hubspot/clock.ts'
import { HubSpotAdapter, type HubSpotAdapterOptions } from '../../../crm-adapters/hubspot/hubspot-adapter.ts'
import type { CommunicationStore, StoredCommunication } from '../../../crm-adapters/hubspot/hubspot-engagement.ts'

export const API = 'http://hubspot.test'

/** Only nock answers within a test file that calls this; the network is back afterwards. */
export function useNock(): void {
  beforeEach(() => {
    nock.disableNetConnect()
  })
  afterEach(() => {
    nock.cleanAll()
    nock.enableNetConnect()
  })
}

export interface FakeTokens extends TokenSource {
  rejected: string[]
}

/** Hands out `first`, then `second` after a rejection, recording what was rejected. */
export function fakeTokens(first = 'token-1', second = 'token-2'): FakeTokens {
  let current = first
  const rejected: string[] = []
  return {
    rejected,
    accessToken: async () => current,
    refreshAfterRejection: async (token) => {
      rejected.push(token)
      current = second
      return current
    },
  }
}

export interface VirtualClock extends Clock {
  sleeps: number[]
}

/** Time that only moves when someone sleeps: rate limits and backoff run instantly. */
export function virtualClock(start = Date.parse('2026-03-01T10:00:00Z')): VirtualClock {
  let now = start
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms)
      // Let everything already due at this instant (e.g. releases of finished calls) happen first.
      await new Promise((resolve) => setImmediate(resolve))
      now += Math.max(0, ms)
    },
  }
}

export interface MemoryCommunications extends CommunicationStore {
  entries: Map<string, StoredCommunication>
}

export function memoryCommunications(): MemoryCommunications {
  const entries = new Map<string, StoredCommunication>()
  return {
    entries,
    load: async (ids) => ids.flatMap((id) => entries.get(id) ?? []),
    save: async (list) => {
      for (const entry of list) entries.set(entry.messageId, entry)
    },
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

export interface AdapterSetup {
  adapter: HubSpotAdapter
  tokens: FakeTokens
  clock: VirtualClock
  store: MemoryCommunications
  /** Endpoint labels of every HTTP call, in order. */
  calls: string[]
}

export function makeAdapter(options: Partial<HubSpotAdapterOptions> = {}): AdapterSetup {
  const tokens = fakeTokens()
  const clock = virtualClock()
  const store = memoryCommunications()
  const calls: string[] = []
  const adapter = new HubSpotAdapter({
    apiBase: API,
    tokens,
    clock,
    communications: store,
    consentProperty: 'whatsapp_opt_in',
    consentDateProperty: 'whatsapp_opt_in_date',
    consentSourceProperty: 'whatsapp_opt_in_source',
    observer: { onCall: (call) => calls.push(call.endpoint) },
    retry: { baseDelayMs: 10 },
    ...options,
  })
  return { adapter, tokens, clock, store, calls }
}

/** A contact as HubSpot's batch read and search return it (SimplePublicObject). */
export function contact(id: string, properties: Record<string, string | null>, updatedAt = '2026-02-01T09:00:00.000Z'): Record<string, unknown> {
  return {
    id,
    properties: { ...properties, hs_object_id: id, createdate: '2025-01-01T00:00:00.000Z', lastmodifieddate: updatedAt },
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt,
    archived: false,
  }
}

/**
 * Answers contacts batch reads like HubSpot: the asked properties, in no promised order (reversed
 * here), and 207 with one OBJECT_NOT_FOUND error for ids that no longer exist.
 */
export function batchReadReply(deleted: ReadonlySet<string> = new Set(), batchSizes: number[] = []) {
  return async (request: Request): Promise<[number, unknown]> => {
    const body = (await request.json()) as { inputs: { id: string }[]; properties: string[] }
    batchSizes.push(body.inputs.length)
    const ids = body.inputs.map((i) => i.id)
    const results = ids
      .filter((id) => !deleted.has(id))
      .reverse()
      .map((id) => contact(id, Object.fromEntries(body.properties.map((p) => [p, `${p}-${id}`]))))
    const missing = ids.filter((id) => deleted.has(id))
    const batch = { status: 'COMPLETE', results, startedAt: '2026-03-01T10:00:00.000Z', completedAt: '2026-03-01T10:00:00.100Z' }
    if (missing.length === 0) return [200, batch]
    return [
      207,
      {
        ...batch,
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
            context: { ids: missing },
            links: {},
            errors: [],
          },
        ],
      },
    ]
  }
}
