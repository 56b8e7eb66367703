// Consent mirrored onto HubSpot: always the app's own contact properties (opt-in, when, where
// from: manifest.json `hubspot.properties.contact`), since the WhatsApp channel of
// communication preferences is missing from many portals; and the v4 WhatsApp subscription
// status where the portal has one (reference hubspot.md §5, "Connector design";
// https://developers.hubspot.com/docs/api-reference/latest/communication-preferences/status/update-subscription).
import { CrmError, type ConsentWrite, type WriteResult } from '../crm-adapter.ts'
import { withoutNamed } from './batch-retry.ts'
import type { HubSpotHttp } from './hubspot-http.ts'
import { asArray, asRecord, asString, chunks } from './json.ts'

/** Contacts batch update maximum (reference §4). */
const BATCH_MAX = 100

/** Contact properties consent is written to; null leaves that detail out. */
export interface ConsentProperties {
  optIn: string
  date: string | null
  source: string | null
}

export class ConsentWriter {
  readonly #http: HubSpotHttp
  readonly #properties: ConsentProperties
  /** The portal's WhatsApp subscription definition id, looked up once; undefined = none. */
  #subscription: Promise<string | undefined> | undefined

  constructor(http: HubSpotHttp, properties: ConsentProperties) {
    this.#http = http
    this.#properties = properties
  }

  async write(changes: readonly ConsentWrite[]): Promise<WriteResult[]> {
    const contacts = changes.filter((c) => c.objectType === 'contact')
    const recordErrors = await this.#writeProperty([...latestBy(contacts, (c) => c.recordId).values()])
    const phoneErrors = await this.#writeSubscriptions([...latestBy(contacts, (c) => c.phone).values()])
    return changes.map((change) => {
      const error =
        change.objectType !== 'contact'
          ? new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: `HubSpot record ${change.recordId} must be a contact` })
          : (recordErrors.get(change.recordId) ?? (change.phone === undefined ? undefined : phoneErrors.get(change.phone)))
      return error ? { id: change.recordId, ok: false, error } : { id: change.recordId, ok: true }
    })
  }

  async #writeProperty(changes: ConsentWrite[]): Promise<Map<string, CrmError>> {
    const errors = new Map<string, CrmError>()
    for (const batch of chunks(changes, BATCH_MAX)) {
      const outcome = await withoutNamed(batch, (c) => c.recordId, async (rest) => {
        await this.#http.request('POST /crm/v3/objects/contacts/batch/update', {
          body: { inputs: rest.map((c) => ({ id: c.recordId, properties: this.#values(c) })) },
        })
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

  /** One call per phone: the v4 API's batch write path is unconfirmed (reference §5). */
  async #writeSubscriptions(changes: ConsentWrite[]): Promise<Map<string, CrmError>> {
    const errors = new Map<string, CrmError>()
    if (changes.length === 0) return errors
    let subscriptionId: string | undefined
    try {
      subscriptionId = await this.#whatsAppSubscription()
    } catch (error) {
      if (!(error instanceof CrmError)) throw error
      for (const change of changes) errors.set(change.phone ?? '', error)
      return errors
    }
    if (subscriptionId === undefined) return errors
    await Promise.all(
      changes.map(async (change) => {
        const phone = change.phone ?? ''
        try {
          await this.#http.request('POST /communication-preferences/v4/statuses/{subscriberIdString}', {
            params: { subscriberIdString: phone },
            redact: [phone],
            body: {
              channel: 'WHATSAPP',
              statusState: change.optedIn ? 'SUBSCRIBED' : 'NOT_SUBSCRIBED',
              subscriptionId,
              // Portals with GDPR features require a legal basis to subscribe someone.
              ...(change.optedIn
                ? { legalBasis: 'CONSENT_WITH_NOTICE', legalBasisExplanation: `Opted in on WhatsApp (${change.source}) at ${change.occurredAt.toISOString()}` }
                : {}),
            },
          })
        } catch (error) {
          if (!(error instanceof CrmError)) throw error
          errors.set(phone, error)
        }
      }),
    )
    return errors
  }

  #whatsAppSubscription(): Promise<string | undefined> {
    this.#subscription ??= this.#discover().catch((error: unknown) => {
      this.#subscription = undefined // a failed lookup is tried again next time
      throw error
    })
    return this.#subscription
  }

  async #discover(): Promise<string | undefined> {
    let body: unknown
    try {
      body = (await this.#http.request('GET /communication-preferences/v4/definitions')).body
    } catch (error) {
      // The communication_preferences scopes are optional for this app: without them, no channel.
      if (error instanceof CrmError && error.code === 'MISSING_SCOPES') return undefined
      throw error
    }
    const definition = asArray(asRecord(body).results)
      .map(asRecord)
      .find((d) => d.communicationMethod === 'WHATSAPP' && d.isActive !== false && d.isInternal !== true)
    return asString(definition?.id)
  }
}

/** The newest change per key (opt-out wins a tie: when in doubt, don't message). */
function latestBy(changes: ConsentWrite[], keyOf: (change: ConsentWrite) => string | undefined): Map<string, ConsentWrite> {
  const latest = new Map<string, ConsentWrite>()
  for (const change of changes) {
    const key = keyOf(change)
    if (key === undefined) continue
    const current = latest.get(key)
    const newer = !current || change.occurredAt > current.occurredAt || (change.occurredAt.getTime() === current.occurredAt.getTime() && !change.optedIn)
    if (newer) latest.set(key, change)
  }
  return latest
}
