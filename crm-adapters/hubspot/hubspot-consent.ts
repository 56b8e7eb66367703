// Consent mirrored onto HubSpot as the app's own contact properties only (opt-in, when, where
// from: manifest.json `hubspot.properties.contact`). HubSpot's subscription APIs take the EMAIL
// channel alone, so WhatsApp consent cannot be written there (reference hubspot.md §5,
// "Connector design"; https://developers.hubspot.com/docs/api-reference/legacy/communication-preferences/v3/guide).
import { CrmError, type ConsentWrite, type WriteResult } from '../crm-adapter.ts'
import { withoutNamed } from './batch-retry.ts'
import { batchErrors } from './hubspot-errors.ts'
import type { HubSpotHttp } from './hubspot-http.ts'
import { chunks } from './json.ts'

/** Contacts batch update maximum (reference §4). */
export const CONSENT_BATCH_MAX = 100

/** Contact properties consent is written to; null leaves that detail out. */
export interface ConsentProperties {
  optIn: string
  date: string | null
  source: string | null
}

export class ConsentWriter {
  readonly #http: HubSpotHttp
  readonly #properties: ConsentProperties

  constructor(http: HubSpotHttp, properties: ConsentProperties) {
    this.#http = http
    this.#properties = properties
  }

  async write(changes: readonly ConsentWrite[]): Promise<WriteResult[]> {
    const contacts = changes.filter((c) => c.objectType === 'contact')
    const recordErrors = await this.#writeProperty([...latestPerRecord(contacts).values()])
    return changes.map((change) => {
      const error =
        change.objectType !== 'contact'
          ? new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: `HubSpot record ${change.recordId} must be a contact` })
          : recordErrors.get(change.recordId)
      return error ? { id: change.recordId, ok: false, error } : { id: change.recordId, ok: true }
    })
  }

  async #writeProperty(changes: ConsentWrite[]): Promise<Map<string, CrmError>> {
    const errors = new Map<string, CrmError>()
    const endpoint = this.#http.endpoint('POST', 'objects', '/contacts/batch/update')
    for (const batch of chunks(changes, CONSENT_BATCH_MAX)) {
      const outcome = await withoutNamed(batch, (c) => c.recordId, async (rest) => {
        const response = await this.#http.request(endpoint, {
          // The trace id names each input in a multi-status answer.
          body: { inputs: rest.map((c) => ({ id: c.recordId, objectWriteTraceId: c.recordId, properties: this.#values(c) })) },
        })
        // A record refused on its own (207, e.g. a portal validation rule on 2026-09+) fails alone.
        for (const [id, error] of batchErrors(endpoint, response.body)) errors.set(id, error)
      })
      for (const [change, error] of outcome.named) errors.set(change.recordId, error)
      if (outcome.failed) for (const change of outcome.failed.items) errors.set(change.recordId, outcome.failed.error)
    }
    return errors
  }

  #values(change: ConsentWrite): Record<string, string> {
    const { optIn, date, source } = this.#properties
    const values: Record<string, string> = { [optIn]: String(change.optedIn) }
    if (date) values[date] = change.occurredAt.toISOString()
    if (source) values[source] = change.source
    return values
  }
}

/** The newest change per record (opt-out wins a tie: when in doubt, don't message). */
function latestPerRecord(changes: ConsentWrite[]): Map<string, ConsentWrite> {
  const latest = new Map<string, ConsentWrite>()
  for (const change of changes) {
    const key = change.recordId
    const current = latest.get(key)
    const newer = !current || change.occurredAt > current.occurredAt || (change.occurredAt.getTime() === current.occurredAt.getTime() && !change.optedIn)
    if (newer) latest.set(key, change)
  }
  return latest
}
