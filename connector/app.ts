import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.ts'
import { bearerHook, requireAdmin } from './plugins/admin-auth.ts'
import errorHandler from './plugins/error-handler.ts'
import inputGuard from './plugins/input-guard.ts'
import rateLimits from './plugins/rate-limits.ts'
import securityHeaders from './plugins/security-headers.ts'
import openapi from './plugins/swagger.ts'
import validation from './plugins/validation.ts'
import { adminPageRoutes } from './routes/admin/admin-page.ts'
import { consentRoutes } from './routes/api/consent.ts'
import { installationRoutes } from './routes/api/installations.ts'
import { messageRoutes } from './routes/api/messages.ts'
import { peopleRoutes } from './routes/api/people.ts'
import { segmentRoutes } from './routes/api/segments.ts'
import { templateRoutes } from './routes/api/templates.ts'
import { whatsappNumberRoutes } from './routes/api/whatsapp-numbers.ts'
import { writebackRoutes } from './routes/api/writebacks.ts'
import { healthRoutes } from './routes/health.ts'
import { metricsRoutes } from './routes/metrics.ts'
import { installRoutes } from './routes/oauth/install-routes.ts'
import { hubspotWebhookRoutes } from './routes/webhooks/hubspot.ts'
import { whatsappWebhookRoutes } from './routes/webhooks/whatsapp.ts'
import { createServices, type ServiceOptions, type Services } from './services.ts'

// buildApp registers plugins and routes over the domain that createServices composes; the app's
// lifecycle starts and stops the domain's workers.

export interface BuildOptions extends ServiceOptions {
  /** Start the inbox processor, dispatcher and schedules when the app is ready (default true). */
  workers?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
  }
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const services = await createServices(config, options)
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    // Behind a proxy the public URL is what the platforms sign; trust the proxy's headers.
    trustProxy: true,
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.decorate('services', services)

  await app.register(errorHandler)
  await app.register(validation)
  await app.register(inputGuard)
  await app.register(securityHeaders, { https: config.publicUrl.startsWith('https:') })
  await app.register(rateLimits)
  await app.register(openapi, { version: '0.1.0', guard: config.docsPublic ? undefined : bearerHook(app, { tokens: [config.adminToken], variable: 'ADMIN_TOKEN' }) })

  await app.register(healthRoutes, { services })
  await app.register(metricsRoutes, { services })
  await app.register(whatsappWebhookRoutes, { services })
  await app.register(hubspotWebhookRoutes, { services })
  await app.register(installRoutes, { install: services.install, providers: services.providers })
  await app.register(async (api) => {
    requireAdmin(api, config.adminToken)
    await api.register(whatsappNumberRoutes, { services })
    await api.register(consentRoutes, { services })
    await api.register(messageRoutes, { services })
    await api.register(installationRoutes, { services, install: services.install })
    await api.register(segmentRoutes, { services, syncer: services.syncer, scheduler: services.scheduler })
    await api.register(templateRoutes, { services })
    await api.register(writebackRoutes, { services })
    await api.register(peopleRoutes, { services })
  }, { prefix: '/api/v1' })
  await app.register(async (admin) => {
    requireAdmin(admin, config.adminToken)
    await admin.register(adminPageRoutes, { services })
  })

  if (options.workers !== false) app.addHook('onReady', () => services.start())
  app.addHook('onClose', () => services.stop())
  return app
}
