import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.ts'
import { KeywordMatcher } from './consent/keywords.ts'
import { isConnectionError, openDatabase, type Database } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { Dispatcher } from './dispatch/dispatcher.ts'
import { AppError } from './errors.ts'
import { InboxProcessor } from './inbox/inbox-processor.ts'
import { InboxWriter } from './inbox/inbox-writer.ts'
import { whatsappInboxHandler } from './inbox/whatsapp-events.ts'
import { createLogger } from './observability/logger.ts'
import { requireAdmin } from './plugins/admin-auth.ts'
import { createMetrics } from './observability/metrics.ts'
import { consentRoutes } from './routes/api/consent.ts'
import { messageRoutes } from './routes/api/messages.ts'
import { whatsappNumberRoutes } from './routes/api/whatsapp-numbers.ts'
import { installationRoutes } from './routes/api/installations.ts'
import { installRoutes } from './routes/oauth/install-routes.ts'
import { InstallService } from './installations/install-service.ts'
import { hubspotOAuth, salesforceOAuth } from './installations/install-wiring.ts'
import { OAuthStates } from './installations/oauth-state.ts'
import { TokenManager } from './installations/token-manager.ts'
import { CrmAdapters } from './installations/crm-adapters.ts'
import { segmentRoutes } from './routes/api/segments.ts'
import { templateRoutes } from './routes/api/templates.ts'
import { adminPageRoutes } from './routes/admin/admin-page.ts'
import { SegmentScheduler } from './segments/segment-scheduler.ts'
import { SegmentSyncer } from './segments/segment-sync.ts'
import type { HubSpotOAuth, SalesforceOAuth } from './installations/crm-oauth.ts'
import { hubspotConsentProperty, hubspotScopes } from './manifest/manifest.ts'
import { healthRoutes } from './routes/health.ts'
import { whatsappWebhookRoutes } from './routes/webhooks/whatsapp.ts'
import { hubspotWebhookRoutes } from './routes/webhooks/hubspot.ts'
import { hubspotInboxHandler } from './inbox/hubspot-events.ts'
import { resolveEncryptionKey } from './security/encryption-key.ts'
import { SecretBox } from './security/secret-box.ts'
import type { Services } from './services.ts'
import { GraphClient, type WhatsAppClient } from './whatsapp/graph-client.ts'

export interface BuildOptions {
  /** An open database to use instead of the configured one (tests share one). Not closed by the app. */
  db?: Database
  /** The outside world, swapped in tests. */
  graph?: WhatsAppClient
  hubspotOAuth?: HubSpotOAuth
  salesforceOAuth?: SalesforceOAuth
  /** Start the inbox processor and dispatcher when the app is ready (default true). */
  workers?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
  }
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const log = createLogger(config.logLevel)
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Behind a proxy the public URL is what the platforms sign; trust the proxy's headers.
    trustProxy: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  const ownsDb = !options.db
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }))
  try {
    const result = await migrate(db)
    if (result.applied.length) log.info({ applied: result.applied }, 'migrations applied')
  } catch (error) {
    if (ownsDb) await db.close()
    throw error
  }

  const metrics = createMetrics()
  const encryptionKey = resolveEncryptionKey(config.encryptionKey, config.dataDir, log)
  const secrets = new SecretBox(encryptionKey, config.encryptionPreviousKeys)
  const graph = options.graph ?? new GraphClient({
    baseUrl: config.whatsapp.graphUrl,
    version: config.whatsapp.graphVersion,
    onCall: ({ endpoint, status, code }) => {
      metrics.graphCalls.inc({ endpoint, status: String(status) })
      if (code !== undefined) metrics.platformErrors.inc({ platform: 'graph', code: String(code) })
    },
  })
  const keywords = new KeywordMatcher(config.consent.optOutKeywords, config.consent.optInKeywords)
  const inboxProcessor = new InboxProcessor({
    db,
    log: log.child({ component: 'inbox' }),
    handlers: {
      whatsapp: whatsappInboxHandler({
        keywords,
        log,
        optOutReply: config.consent.optOutReply,
        optInReply: config.consent.optInReply,
        onEvent: (kind, detail) => metrics.events.inc({ kind, detail }),
      }),
      hubspot: hubspotInboxHandler({
        consentProperty: hubspotConsentProperty(),
        appId: config.hubspot.appId,
        log,
        onEvent: (kind, detail) => metrics.events.inc({ kind, detail }),
      }),
    },
    onProcessed: (outcome, source, lagMs) => {
      metrics.inboxProcessed.inc({ source, outcome })
      if (outcome === 'processed') metrics.inboxLag.observe({ source }, lagMs / 1000)
    },
  })
  const inboxWriter = new InboxWriter(db, {
    maxConcurrent: db.kind === 'pglite' ? 1 : 4,
    onWritten: () => inboxProcessor.nudge(),
  })
  const dispatcher = new Dispatcher({
    db,
    graph,
    secrets,
    log: log.child({ component: 'dispatch' }),
    onSend: (outcome, code) => {
      metrics.sends.inc({ outcome })
      if (code !== undefined) metrics.platformErrors.inc({ platform: 'graph', code: String(code) })
    },
  })

  const hsOAuth = options.hubspotOAuth ?? hubspotOAuth(config)
  const sfOAuth = options.salesforceOAuth ?? salesforceOAuth(config)
  const scopes = hubspotScopes()
  const install = new InstallService({
    db,
    secrets,
    states: new OAuthStates(db, secrets, encryptionKey),
    log,
    publicUrl: config.publicUrl,
    hubspot: hsOAuth ? { oauth: hsOAuth, requiredScopes: scopes.required, optionalScopes: scopes.optional } : undefined,
    salesforce: sfOAuth ? { oauth: sfOAuth } : undefined,
  })
  const tokens = new TokenManager({
    db,
    secrets,
    log: log.child({ component: 'tokens' }),
    refreshers: {
      hubspot: async (_i, refreshToken) => {
        if (!hsOAuth) throw new Error('HubSpot is not configured')
        const t = await hsOAuth.refresh(refreshToken)
        return { accessToken: t.accessToken, refreshToken: t.refreshToken ?? undefined, expiresInSeconds: t.expiresInSeconds ?? undefined }
      },
      salesforce: async (i, refreshToken) => {
        if (!sfOAuth) throw new Error('Salesforce is not configured')
        const t = await sfOAuth.refresh({ loginUrl: i.loginUrl ?? config.salesforce.loginUrl, refreshToken })
        return { accessToken: t.accessToken, refreshToken: t.refreshToken ?? undefined, instanceUrl: t.instanceUrl ?? undefined }
      },
    },
  })

  const crm = new CrmAdapters({ db, tokens, config, metrics })
  const syncer = new SegmentSyncer({ db, crm, log: log.child({ component: 'segments' }) })
  const scheduler = new SegmentScheduler({ db, syncer, log: log.child({ component: 'schedules' }) })

  const services: Services = { config, db, log, secrets, graph, metrics, inboxWriter, inboxProcessor, dispatcher, tokens, install, crm, syncer, scheduler }
  app.decorate('services', services)

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      return reply.code(error.statusCode).send({ statusCode: error.statusCode, error: httpError(error.statusCode), code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) })
    }
    if (isConnectionError(error)) {
      request.log.warn('database unreachable')
      return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', code: 'DATABASE_UNAVAILABLE', message: 'The database cannot be reached; retry later' })
    }
    const fe = error as FastifyError
    if (fe.validation) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', code: 'VALIDATION_ERROR', message: fe.message })
    }
    const status = fe.statusCode && fe.statusCode >= 400 ? fe.statusCode : 500
    if (status >= 500) request.log.error({ err: error }, 'request failed')
    return reply.code(status).send({ statusCode: status, error: httpError(status), code: fe.code ?? 'INTERNAL_ERROR', message: status >= 500 ? 'Internal error' : fe.message })
  })

  await app.register(swagger, {
    openapi: {
      info: { title: 'WhatsApp Lists connector for HubSpot and Salesforce', version: '0.1.0' },
      components: { securitySchemes: { admin: { type: 'http', scheme: 'bearer' } } },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  await app.register(healthRoutes, { services })
  await app.register(whatsappWebhookRoutes, { services })
  await app.register(hubspotWebhookRoutes, { services })
  await app.register(installRoutes, { install })
  await app.register(async (api) => {
    requireAdmin(api, config.adminToken)
    await api.register(whatsappNumberRoutes, { services })
    await api.register(consentRoutes, { services })
    await api.register(messageRoutes, { services })
    await api.register(installationRoutes, { services, install })
    await api.register(segmentRoutes, { services, syncer, scheduler })
    await api.register(templateRoutes, { services })
  }, { prefix: '/api/v1' })
  await app.register(async (admin) => {
    requireAdmin(admin, config.adminToken)
    await admin.register(adminPageRoutes, { services })
  })

  if (options.workers !== false) {
    app.addHook('onReady', async () => {
      inboxProcessor.start()
      dispatcher.start()
      await scheduler.start()
    })
  }
  app.addHook('onClose', async () => {
    await scheduler.stop()
    await syncer.drain()
    await inboxWriter.drain()
    await inboxProcessor.stop()
    await dispatcher.stop()
    if (ownsDb) await db.close()
  })
  return app
}

function httpError(status: number): string {
  const names: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 422: 'Unprocessable Entity', 502: 'Bad Gateway', 503: 'Service Unavailable' }
  return names[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error')
}
