// Local WhatsApp Cloud API (Graph) simulator: the public entry point used by tests, benchmarks, the sandbox and the CLI.
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { controlRoutes } from './control-routes.ts'
import { SimulatorCore } from './core.ts'
import { GraphError } from './graph-errors.ts'
import { graphRoutes } from './graph-routes.ts'
import type { PairLimit } from './rate-limits.ts'
import type { NumberInput, RecipientFault, SentMessage, SimulatorStats, TemplateInput, WebhookBehaviour } from './types.ts'
import type { DeliveryOptions } from './webhook-dispatcher.ts'

export type { NumberInput, QualityRating, RecipientFault, SentMessage, SimulatorStats, SuccessStatus, TemplateInput, WebhookBehaviour } from './types.ts'
export type { PairLimit } from './rate-limits.ts'
export type { DeliveryOptions } from './webhook-dispatcher.ts'
export { sign } from './webhook-dispatcher.ts'

export interface GraphSimulatorOptions {
  /** Signs the webhooks it sends (X-Hub-Signature-256). */
  appSecret: string
  /** Where status webhooks are POSTed (the connector's /webhooks/whatsapp); settable later. */
  webhookUrl?: string
  /** Version advertised in `graphVersion`; any /vNN.N/ prefix is accepted in paths. Default v21.0. */
  graphVersion?: string
  /** Default: ephemeral port on 127.0.0.1. */
  port?: number
  host?: string
  /** Pair rate limit (131056). Default burst 5, then one per 6000 ms. */
  pairRateLimit?: PairLimit
  /** Webhook delivery tuning (concurrency 16, 4 retries from 100 ms backoff, 5 s timeout by default). */
  webhookDelivery?: DeliveryOptions
  /** Fastify request logging. Default off. */
  logger?: boolean
}

export interface GraphSimulator {
  /** Base URL without version, e.g. http://127.0.0.1:PORT; clients append /{version}/... */
  url: string
  graphVersion: string
  close(): Promise<void>
  addNumber(n: NumberInput): void
  addTemplate(wabaId: string, t: TemplateInput): void
  setWebhookUrl(url: string): void
  failRecipient(waId: string, fault: RecipientFault): void
  setWebhookBehaviour(b: WebhookBehaviour): void
  /** Delay added before every Graph response (not /_sim). */
  setLatency(ms: number): void
  stats(): SimulatorStats
  /** Accepted sends (the most recent 10,000), oldest first. */
  messages(): SentMessage[]
  /** Signs and delivers any webhook body (e.g. an inbound message fixture); true once the receiver answered 2xx. */
  sendWebhook(body: unknown): Promise<boolean>
  /** Resolves when every scheduled webhook has been delivered or given up. */
  flushWebhooks(): Promise<void>
  /** Clears counters, faults, rate-limit state, latency, webhook behaviour and the message log. */
  reset(): void
}

/** The Fastify app with Graph routes and /_sim control routes, plus the state behind them (not listening yet). */
export function buildGraphSimulatorApp(options: GraphSimulatorOptions): { app: FastifyInstance; core: SimulatorCore } {
  const core = new SimulatorCore({
    appSecret: options.appSecret,
    ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
    ...(options.pairRateLimit === undefined ? {} : { pairRateLimit: options.pairRateLimit }),
    ...(options.webhookDelivery === undefined ? {} : { webhookDelivery: options.webhookDelivery }),
  })
  const app = Fastify({ logger: options.logger ?? false })
  app.register(controlRoutes(core), { prefix: '/_sim' })
  app.register(graphRoutes(core))
  app.setNotFoundHandler((request, reply) => {
    const error = new GraphError(2500, { title: `Unknown path components: ${request.url.split('?')[0]}` })
    core.countRejection(error.code)
    return reply.code(error.httpStatus).send(error.toBody())
  })
  app.addHook('onClose', async () => core.dispatcher.close())
  return { app, core }
}

export async function startGraphSimulator(options: GraphSimulatorOptions): Promise<GraphSimulator> {
  const { app, core } = buildGraphSimulatorApp(options)
  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  return {
    url: address,
    graphVersion: options.graphVersion ?? 'v21.0',
    close: async () => {
      await app.close()
    },
    addNumber: (n) => core.addNumber(n),
    addTemplate: (wabaId, t) => {
      core.addTemplate(wabaId, t)
    },
    setWebhookUrl: (url) => {
      core.webhookUrl = url
    },
    failRecipient: (waId, fault) => core.failRecipient(waId, fault),
    setWebhookBehaviour: (b) => core.setWebhookBehaviour(b),
    setLatency: (ms) => {
      core.latencyMs = ms
    },
    stats: () => core.stats(),
    messages: () => core.messages(),
    sendWebhook: (body) => {
      const delivery = core.dispatcher.post(body)
      core.dispatcher.track(delivery)
      return delivery
    },
    flushWebhooks: () => core.dispatcher.flush(),
    reset: () => core.reset(),
  }
}
