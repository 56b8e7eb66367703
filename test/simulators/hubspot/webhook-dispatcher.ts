// Builds, signs and POSTs webhook deliveries to an app's target URL, like HubSpot's webhooks
// executor: a JSON array of events per request (≤ 100), v1 + v3 signatures.
import { signedHeaders } from './signatures.ts'
import type { SimState } from './state.ts'
import type { App, Portal, WebhookDelivery } from './types.ts'

const MAX_EVENTS_PER_REQUEST = 100

export interface ContactWebhookEventInput {
  objectId: number
  /** Default `contact.propertyChange` when propertyName is set, otherwise `contact.creation`. */
  subscriptionType?: string
  propertyName?: string
  propertyValue?: string
  changeSource?: string
  sourceId?: string
  occurredAt?: number
  eventId?: number
  subscriptionId?: number
  attemptNumber?: number
  changeFlag?: string
}

export interface ChangeSource {
  changeSource: string
  sourceId?: string
}

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = []
  readonly #state: SimState
  readonly #pending = new Set<Promise<unknown>>()
  readonly #abort = new AbortController()
  readonly #queued = new Map<number, { portalId: number; events: Record<string, unknown>[] }[]>()
  #flushScheduled = false
  #nextEventId = 1000000001

  constructor(state: SimState) {
    this.#state = state
  }

  /** Queues propertyChange events for every installed app with an active subscription on a changed property. */
  contactPropertiesChanged(portal: Portal, contactId: number, changes: Record<string, string>, source: ChangeSource): void {
    const occurredAt = Date.now()
    for (const app of this.#installedApps(portal.portalId)) {
      if (!app.webhookSettings) continue
      for (const sub of app.webhookSubscriptions.values()) {
        if (!sub.active || sub.eventType !== 'contact.propertyChange' || !sub.propertyName) continue
        const value = changes[sub.propertyName]
        if (value === undefined) continue
        this.#enqueue(app, portal.portalId, {
          eventId: this.#nextEventId++,
          subscriptionId: Number(sub.id),
          portalId: portal.portalId,
          appId: app.appId,
          occurredAt,
          subscriptionType: 'contact.propertyChange',
          attemptNumber: 0,
          objectId: contactId,
          propertyName: sub.propertyName,
          propertyValue: value,
          changeSource: source.changeSource,
          ...(source.sourceId === undefined ? {} : { sourceId: source.sourceId }),
        })
      }
    }
  }

  /** Sends the given events at once (one request), filling the fields HubSpot always sets. */
  sendContactEvents(app: App, portalId: number, inputs: ContactWebhookEventInput[], targetUrl: string): Promise<WebhookDelivery> {
    const occurredAt = Date.now()
    const events = inputs.map((input) => {
      const subscriptionType = input.subscriptionType ?? (input.propertyName ? 'contact.propertyChange' : 'contact.creation')
      return {
        eventId: input.eventId ?? this.#nextEventId++,
        subscriptionId: input.subscriptionId ?? this.#subscriptionIdFor(app, subscriptionType, input.propertyName),
        portalId,
        appId: app.appId,
        occurredAt: input.occurredAt ?? occurredAt,
        subscriptionType,
        attemptNumber: input.attemptNumber ?? 0,
        objectId: input.objectId,
        ...(input.propertyName === undefined ? {} : { propertyName: input.propertyName, propertyValue: input.propertyValue ?? '' }),
        ...(subscriptionType === 'contact.creation' ? { changeFlag: input.changeFlag ?? 'CREATED' } : {}),
        changeSource: input.changeSource ?? 'CRM_UI',
        ...(input.sourceId === undefined ? {} : { sourceId: input.sourceId }),
      }
    })
    return this.#track(this.#post(app, targetUrl, events))
  }

  /** Resolves once queued events are sent and every delivery in flight has an answer. */
  async flush(): Promise<void> {
    this.#drain()
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** Abandons deliveries in flight (the simulator is shutting down). */
  close(): void {
    this.#abort.abort()
  }

  #installedApps(portalId: number): App[] {
    const apps: App[] = []
    for (const key of this.#state.installs.keys()) {
      const [appId, installedPortal] = key.split(':').map(Number)
      const app = appId === undefined ? undefined : this.#state.apps.get(appId)
      if (installedPortal === portalId && app) apps.push(app)
    }
    return apps
  }

  #subscriptionIdFor(app: App, eventType: string, propertyName: string | undefined): number {
    for (const sub of app.webhookSubscriptions.values()) {
      if (sub.eventType === eventType && sub.propertyName === propertyName) return Number(sub.id)
    }
    return 0
  }

  #enqueue(app: App, portalId: number, event: Record<string, unknown>): void {
    const batches = this.#queued.get(app.appId) ?? []
    let batch = batches.find((b) => b.portalId === portalId && b.events.length < MAX_EVENTS_PER_REQUEST)
    if (!batch) {
      batch = { portalId, events: [] }
      batches.push(batch)
    }
    batch.events.push(event)
    this.#queued.set(app.appId, batches)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      // Let the API response go out first, as HubSpot delivers asynchronously.
      setImmediate(() => this.#drain())
    }
  }

  #drain(): void {
    this.#flushScheduled = false
    for (const [appId, batches] of this.#queued) {
      const app = this.#state.apps.get(appId)
      const targetUrl = app?.webhookSettings?.targetUrl
      if (!app || !targetUrl) continue
      for (const batch of batches) this.#track(this.#post(app, targetUrl, batch.events))
    }
    this.#queued.clear()
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise)
    void promise.finally(() => this.#pending.delete(promise)).catch(() => undefined)
    return promise
  }

  async #post(app: App, targetUrl: string, events: Record<string, unknown>[]): Promise<WebhookDelivery> {
    const body = JSON.stringify(events)
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon',
      'x-hubspot-timeout-millis': '10000',
      ...signedHeaders('v1', app.clientSecret, 'POST', targetUrl, body),
    }
    const delivery: WebhookDelivery = { targetUrl, appId: app.appId, events, headers, body, status: null, responseBody: '', error: null }
    this.deliveries.push(delivery)
    try {
      const response = await fetch(targetUrl, { method: 'POST', headers, body, signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(10_000)]) })
      delivery.status = response.status
      delivery.responseBody = await response.text()
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error)
    }
    return delivery
  }
}
