// Communication preferences v4: subscription definitions and per-channel statuses (incl. WHATSAPP).
import type { FastifyInstance } from 'fastify'
import { validation } from './api-error.ts'
import type { SimContext } from './context.ts'
import { oauthRoute } from './guard.ts'
import { firstQueryValue, params, query, requireArray, requireRecord, requireString } from './input.ts'
import { REQUIRES } from './scopes.ts'
import type { SubscriptionChannel, SubscriptionDefinition, SubscriptionStatus } from './types.ts'

const CHANNELS = new Set<string>(['EMAIL', 'WHATSAPP', 'SMS'])
const STATES = new Set<string>(['SUBSCRIBED', 'NOT_SUBSCRIBED', 'NOT_SPECIFIED'])
const LEGAL_BASES = new Set([
  'LEGITIMATE_INTEREST_PQL',
  'LEGITIMATE_INTEREST_CLIENT',
  'PERFORMANCE_OF_CONTRACT',
  'CONSENT_WITH_NOTICE',
  'NON_GDPR',
  'PROCESS_AND_STORE',
  'LEGITIMATE_INTEREST_OTHER',
])
const BATCH_MAX = 100

export function registerPreferenceRoutes(server: FastifyInstance, ctx: SimContext): void {
  const base = '/communication-preferences/v4'

  oauthRoute(server, ctx, 'GET', `${base}/definitions`, REQUIRES.prefsRead, (_request, _reply, { portal }) => {
    const now = new Date().toISOString()
    return { status: 'COMPLETE', results: portal.subscriptionDefinitions.map(serializeDefinition), startedAt: now, completedAt: now }
  })

  oauthRoute(server, ctx, 'POST', `${base}/statuses/batch/read`, REQUIRES.prefsRead, (request, _reply, { portal }) => {
    const startedAt = new Date().toISOString()
    const channel = requireChannel(firstQueryValue(query(request).channel))
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs')
    if (inputs.length > BATCH_MAX) throw validation(`Batch input size must not exceed ${BATCH_MAX}.`)
    const definitions = portal.subscriptionDefinitions.filter((d) => d.communicationMethod === channel)
    const results = inputs.map((raw) => {
      const subscriber = normalizeSubscriber(channel, requireString(raw, 'input'))
      return {
        subscriberIdString: subscriber,
        statuses: definitions.map((d) => serializeStatus(d, portal.subscriptionStatuses.get(statusKey(channel, d.id, subscriber)) ?? unspecified(channel, d.id, subscriber))),
      }
    })
    return { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
  })

  oauthRoute(server, ctx, 'POST', `${base}/statuses/:subscriberIdString`, REQUIRES.prefsWrite, (request, _reply, { portal }) => {
    const body = requireRecord(request.body, 'request body')
    const channel = requireChannel(body.channel)
    const subscriptionId = String(body.subscriptionId ?? '')
    const definition = portal.subscriptionDefinitions.find((d) => d.id === subscriptionId)
    if (!definition) throw validation(`Subscription ${subscriptionId} does not exist.`)
    if (definition.communicationMethod !== channel) throw validation(`Subscription ${subscriptionId} belongs to channel ${definition.communicationMethod}, not ${channel}.`)
    const statusState = requireString(body.statusState, 'statusState')
    if (!STATES.has(statusState)) throw validation(`statusState must be one of ${[...STATES].join(', ')}.`)
    const legalBasis = typeof body.legalBasis === 'string' ? body.legalBasis : null
    if (legalBasis !== null && !LEGAL_BASES.has(legalBasis)) throw validation(`legalBasis ${legalBasis} is not valid.`)
    if (portal.gdpr && legalBasis === null && statusState === 'SUBSCRIBED') throw validation('legalBasis is required because GDPR features are enabled for this account.')
    const subscriber = normalizeSubscriber(channel, params(request).subscriberIdString ?? '')
    const key = statusKey(channel, subscriptionId, subscriber)
    const previous = portal.subscriptionStatuses.get(key)
    const status: SubscriptionStatus = {
      channel,
      subscriberIdString: subscriber,
      subscriptionId,
      status: statusState as SubscriptionStatus['status'],
      source: 'Public API',
      legalBasis,
      legalBasisExplanation: typeof body.legalBasisExplanation === 'string' ? body.legalBasisExplanation : null,
      timestamp: Date.now(),
    }
    portal.subscriptionStatuses.set(key, status)
    return { ...serializeStatus(definition, status), setStatusSuccessReason: successReason(previous?.status, status.status) }
  })
}

function requireChannel(value: unknown): SubscriptionChannel {
  if (typeof value !== 'string' || !CHANNELS.has(value)) throw validation(`channel must be one of ${[...CHANNELS].join(', ')}.`)
  return value as SubscriptionChannel
}

/** Emails compare case-insensitively; WhatsApp/SMS subscribers must be E.164 phone numbers. */
function normalizeSubscriber(channel: SubscriptionChannel, value: string): string {
  if (channel === 'EMAIL') return value.toLowerCase()
  if (!/^\+[1-9]\d{6,14}$/.test(value)) throw validation(`${value} is not an E.164 phone number, required for channel ${channel}.`)
  return value
}

function statusKey(channel: SubscriptionChannel, subscriptionId: string, subscriber: string): string {
  return `${channel}:${subscriptionId}:${subscriber}`
}

function unspecified(channel: SubscriptionChannel, subscriptionId: string, subscriber: string): SubscriptionStatus {
  return { channel, subscriberIdString: subscriber, subscriptionId, status: 'NOT_SPECIFIED', source: '', legalBasis: null, legalBasisExplanation: null, timestamp: 0 }
}

function successReason(before: SubscriptionStatus['status'] | undefined, after: SubscriptionStatus['status']): string {
  if (before === after) return 'NO_STATUS_CHANGE'
  if (after === 'SUBSCRIBED') return before === 'NOT_SUBSCRIBED' ? 'RESUBSCRIBE_OCCURRED' : 'REQUESTED_CHANGE_OCCURRED'
  return after === 'NOT_SUBSCRIBED' ? 'UNSUBSCRIBE_OCCURRED' : 'REQUESTED_CHANGE_OCCURRED'
}

function serializeDefinition(d: SubscriptionDefinition): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    purpose: d.purpose,
    communicationMethod: d.communicationMethod,
    isActive: d.isActive,
    isDefault: d.isDefault,
    isInternal: d.isInternal,
    businessUnitId: 0,
    subscriptionTranslations: [],
    createdAt: new Date(d.createdAt).toISOString(),
    updatedAt: new Date(d.createdAt).toISOString(),
  }
}

function serializeStatus(d: SubscriptionDefinition, s: SubscriptionStatus): Record<string, unknown> {
  return {
    channel: s.channel,
    status: s.status,
    subscriptionId: d.id,
    subscriptionName: d.name,
    subscriberIdString: s.subscriberIdString,
    source: s.source,
    timestamp: s.timestamp === 0 ? null : new Date(s.timestamp).toISOString(),
    legalBasis: s.legalBasis,
    legalBasisExplanation: s.legalBasisExplanation,
    businessUnitId: 0,
  }
}

