import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { migrationsCurrent } from '../db/migrate.ts'
import { pendingInboxCount } from '../inbox/inbox-repository.ts'
import type { RouteOptions } from '../services.ts'

const Status = Type.Object({ status: Type.String(), database: Type.Optional(Type.String()), migrations: Type.Optional(Type.String()) })

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: Status } } }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: { tags: ['operations'], summary: 'Ready: database reachable and every migration applied', response: { 200: Status, 503: Status } },
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
