import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { migrationsCurrent } from '../db/migrate.ts'
import { pendingInboxCount } from '../inbox/inbox-repository.ts'
import { HealthStatus } from '../schemas/health.ts'
import type { RouteOptions } from '../services.ts'

export const healthRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: HealthStatus } } }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: { tags: ['operations'], summary: 'Ready: database reachable and every migration applied', response: { 200: HealthStatus, 503: HealthStatus } },
  }, async (_request, reply) => {
    try {
      const current = await migrationsCurrent(services.db)
      if (!current) return reply.code(503).send({ status: 'not_ready', database: 'up', migrations: 'pending' })
      return { status: 'ready', database: 'up', migrations: 'current' }
    } catch {
      return reply.code(503).send({ status: 'not_ready', database: 'down' })
    }
  })

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    try {
      services.metrics.inboxPending.set(await pendingInboxCount(services.db))
    } catch {
      // Metrics stay available while the database is down; the gauge keeps its last value.
    }
    reply.type(services.metrics.registry.contentType)
    return services.metrics.registry.metrics()
  })
}
