// /_sim/* JSON control API: the same operations as the GraphSimulator object, for driving a standalone simulator with curl.
import type { FastifyInstance } from 'fastify'
import type { SimulatorCore } from './core.ts'
import type { NumberInput, RecipientFault, TemplateInput, WebhookBehaviour } from './types.ts'

const numberSchema = {
  type: 'object',
  required: ['phoneNumberId', 'wabaId', 'accessToken', 'displayPhoneNumber'],
  additionalProperties: false,
  properties: {
    phoneNumberId: { type: 'string', minLength: 1 },
    wabaId: { type: 'string', minLength: 1 },
    accessToken: { type: 'string', minLength: 1 },
    displayPhoneNumber: { type: 'string', minLength: 1 },
    verifiedName: { type: 'string' },
    messagesPerSecond: { type: 'number', exclusiveMinimum: 0 },
    qualityRating: { enum: ['GREEN', 'YELLOW', 'RED'] },
    businessPortfolioId: { type: 'string', minLength: 1 },
  },
}

const templateSchema = {
  type: 'object',
  required: ['wabaId', 'name', 'language'],
  additionalProperties: false,
  properties: {
    wabaId: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    language: { type: 'string', minLength: 1 },
    status: { type: 'string' },
    category: { type: 'string' },
    components: { type: 'array' },
    id: { type: 'string' },
  },
}

const faultSchema = {
  type: 'object',
  required: ['waId', 'code', 'mode'],
  additionalProperties: false,
  properties: {
    waId: { type: 'string', minLength: 1 },
    code: { type: 'integer' },
    mode: { enum: ['sync', 'async'] },
    times: { type: 'integer', minimum: 1 },
  },
}

const webhooksSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1 },
    statuses: { type: 'array', items: { enum: ['sent', 'delivered', 'read'] } },
    duplicate: { type: 'number', minimum: 0, maximum: 1 },
    reorder: { type: 'boolean' },
    delayMs: { type: 'number', minimum: 0 },
    enabled: { type: 'boolean' },
    batchSize: { type: 'integer', minimum: 1 },
  },
}

const latencySchema = {
  type: 'object',
  required: ['ms'],
  additionalProperties: false,
  properties: { ms: { type: 'number', minimum: 0 } },
}

export function controlRoutes(core: SimulatorCore) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) =>
      reply.code(error.statusCode ?? 500).send({ error: error.message }),
    )

    app.get('/stats', async () => core.stats())

    app.get('/messages', async () => core.messages())

    app.post('/numbers', { schema: { body: numberSchema } }, async (request, reply) => {
      core.addNumber(request.body as NumberInput)
      return reply.code(201).send({ ok: true })
    })

    app.post('/templates', { schema: { body: templateSchema } }, async (request, reply) => {
      const { wabaId, ...template } = request.body as TemplateInput & { wabaId: string }
      return reply.code(201).send({ id: core.addTemplate(wabaId, template) })
    })

    app.post('/faults', { schema: { body: faultSchema } }, async (request, reply) => {
      const { waId, ...fault } = request.body as RecipientFault & { waId: string }
      core.failRecipient(waId, fault)
      return reply.code(201).send({ ok: true })
    })

    app.post('/webhooks', { schema: { body: webhooksSchema } }, async (request) => {
      const { url, ...behaviour } = request.body as WebhookBehaviour & { url?: string }
      if (url !== undefined) core.webhookUrl = url
      core.setWebhookBehaviour(behaviour)
      return { ok: true }
    })

    // Signs and delivers any webhook body (e.g. a fixture such as an inbound quick-reply) to the webhook URL.
    app.post('/webhooks/send', async (request) => {
      const delivery = core.dispatcher.post(request.body)
      core.dispatcher.track(delivery)
      return { delivered: await delivery }
    })

    app.post('/latency', { schema: { body: latencySchema } }, async (request) => {
      core.latencyMs = (request.body as { ms: number }).ms
      return { ok: true }
    })

    app.post('/flush', async () => {
      await core.dispatcher.flush()
      return core.stats()
    })

    app.post('/reset', async () => {
      core.reset()
      return { ok: true }
    })
  }
}
