import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { pendingInboxCount } from '../inbox/inbox-repository.ts'
import { requireBearer } from '../plugins/admin-auth.ts'
import type { RouteOptions } from '../services.ts'

// Prometheus metrics, behind METRICS_TOKEN (a scraper need not hold the admin token) or the
// admin token.

export const metricsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const { config, metrics, db } = services
  requireBearer(app, { tokens: [config.metricsToken, config.adminToken], variable: 'METRICS_TOKEN' })

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    try {
      metrics.inboxPending.set(await pendingInboxCount(db))
    } catch {
      // Metrics stay available while the database is down; the gauge keeps its last value.
    }
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
}
