import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { migrationsCurrent } from '../db/migrate.ts'
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
}
