// Webhooks (/webhooks/{version}) app settings and subscriptions (developer API key).
import type { FastifyInstance } from 'fastify'
import { ApiError, notFound, validation } from './api-error.ts'
import type { SimContext } from './context.ts'
import { developerRoute } from './guard.ts'
import { params, requireArray, requireRecord, requireString } from './input.ts'
import type { App, WebhookSettings, WebhookSubscription } from './types.ts'
import { SERVED_VERSIONS, type ServedVersion } from './versions.ts'

const EVENT_TYPE = /^(contact|company|deal|ticket|product|line_item|conversation|object)\.(creation|deletion|propertyChange|privacyDeletion|merge|restore|associationChange|newMessage)$/

export function registerWebhookRoutes(server: FastifyInstance, ctx: SimContext): void {
  // One id sequence for every version: they all write the same app's subscriptions.
  const ids = { next: 2519846 }
  for (const version of SERVED_VERSIONS) registerWebhookRoutesAt(server, ctx, version, ids)
}

function registerWebhookRoutesAt(server: FastifyInstance, ctx: SimContext, version: ServedVersion, ids: { next: number }): void {
  const base = `/webhooks/${version}/:appId`

  developerRoute(server, ctx, 'GET', `${base}/settings`, (_request, _reply, { app }) => {
    if (!app.webhookSettings) throw notFound(`No webhook settings found for app ${app.appId}.`)
    return serializeSettings(app.webhookSettings)
  })

  developerRoute(server, ctx, 'PUT', `${base}/settings`, (request, _reply, { app }) => {
    const body = requireRecord(request.body, 'request body')
    const targetUrl = requireString(body.targetUrl, 'targetUrl')
    if (!URL.canParse(targetUrl) || !/^https?:$/.test(new URL(targetUrl).protocol)) throw validation(`targetUrl ${targetUrl} is not a valid URL.`)
    const throttling = requireRecord(body.throttling, 'throttling')
    const maxConcurrentRequests = Number(throttling.maxConcurrentRequests)
    if (!Number.isInteger(maxConcurrentRequests) || maxConcurrentRequests < 5) throw validation('throttling.maxConcurrentRequests must be an integer of at least 5.')
    const now = Date.now()
    app.webhookSettings = { targetUrl, maxConcurrentRequests, createdAt: app.webhookSettings?.createdAt ?? now, updatedAt: now }
    return serializeSettings(app.webhookSettings)
  })

  developerRoute(server, ctx, 'DELETE', `${base}/settings`, (_request, reply, { app }) => {
    app.webhookSettings = null
    return reply.code(204).send()
  })

  developerRoute(server, ctx, 'GET', `${base}/subscriptions`, (_request, _reply, { app }) => ({
    results: [...app.webhookSubscriptions.values()].map(serializeSubscription),
  }))

  developerRoute(server, ctx, 'POST', `${base}/subscriptions`, (request, reply, { app }) => {
    const body = requireRecord(request.body, 'request body')
    const eventType = requireString(body.eventType, 'eventType')
    if (!EVENT_TYPE.test(eventType)) throw validation(`${eventType} is not a valid subscription event type.`)
    const propertyName = typeof body.propertyName === 'string' ? body.propertyName : undefined
    if (eventType.endsWith('.propertyChange') && !propertyName) throw validation(`propertyName is required for ${eventType} subscriptions.`)
    const clash = [...app.webhookSubscriptions.values()].find((s) => s.eventType === eventType && s.propertyName === propertyName)
    if (clash) throw new ApiError(409, 'CONFLICT', `A subscription for ${eventType}${propertyName ? ` on ${propertyName}` : ''} already exists (id ${clash.id}).`)
    const now = Date.now()
    const subscription: WebhookSubscription = {
      id: String(ids.next++),
      eventType,
      ...(propertyName ? { propertyName } : {}),
      ...(typeof body.objectTypeId === 'string' ? { objectTypeId: body.objectTypeId } : {}),
      active: body.active === true,
      createdAt: now,
      updatedAt: now,
    }
    app.webhookSubscriptions.set(subscription.id, subscription)
    return reply.code(201).send(serializeSubscription(subscription))
  })

  developerRoute(server, ctx, 'GET', `${base}/subscriptions/:subscriptionId`, (request, _reply, { app }) =>
    serializeSubscription(requireSubscription(app, params(request).subscriptionId)),
  )

  developerRoute(server, ctx, 'PATCH', `${base}/subscriptions/:subscriptionId`, (request, _reply, { app }) => {
    const subscription = requireSubscription(app, params(request).subscriptionId)
    setActive(subscription, requireRecord(request.body, 'request body').active)
    return serializeSubscription(subscription)
  })

  developerRoute(server, ctx, 'DELETE', `${base}/subscriptions/:subscriptionId`, (request, reply, { app }) => {
    const subscription = requireSubscription(app, params(request).subscriptionId)
    app.webhookSubscriptions.delete(subscription.id)
    return reply.code(204).send()
  })

  developerRoute(server, ctx, 'POST', `${base}/subscriptions/batch/update`, (request, _reply, { app }) => {
    const startedAt = new Date().toISOString()
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs').map((raw) => requireRecord(raw, 'input'))
    const targets = inputs.map((input) => ({ subscription: requireSubscription(app, String(input.id)), active: input.active }))
    const results = targets.map(({ subscription, active }) => {
      setActive(subscription, active)
      return serializeSubscription(subscription)
    })
    return { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
  })
}

function requireSubscription(app: App, id: string | undefined): WebhookSubscription {
  const subscription = id === undefined ? undefined : app.webhookSubscriptions.get(id)
  if (!subscription) throw notFound(`Subscription ${id} does not exist for app ${app.appId}.`)
  return subscription
}

function setActive(subscription: WebhookSubscription, active: unknown): void {
  if (typeof active !== 'boolean') throw validation('active must be a boolean.')
  subscription.active = active
  subscription.updatedAt = Date.now()
}

function serializeSettings(s: WebhookSettings): Record<string, unknown> {
  return {
    targetUrl: s.targetUrl,
    throttling: { maxConcurrentRequests: s.maxConcurrentRequests },
    createdAt: new Date(s.createdAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
  }
}

function serializeSubscription(s: WebhookSubscription): Record<string, unknown> {
  return {
    id: s.id,
    eventType: s.eventType,
    ...(s.propertyName ? { propertyName: s.propertyName } : {}),
    ...(s.objectTypeId ? { objectTypeId: s.objectTypeId } : {}),
    active: s.active,
    createdAt: new Date(s.createdAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
  }
}
