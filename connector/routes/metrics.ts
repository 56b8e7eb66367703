import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { pendingInboxCount } from '../inbox/inbox-repository.ts'
import { requireBearer } from '../plugins/admin-auth.ts'
import { outboxDepthByCrm } from '../writeback/writeback-views.ts'
import type { RouteOptions } from '../services.ts'

// Prometheus metrics, behind METRICS_TOKEN (a scraper need not hold the admin token) or the
// admin token.

export const metricsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const { config, metrics, db, providers } = services
  requireBearer(app, { tokens: [config.metricsToken, config.adminToken], variable: 'METRICS_TOKEN' })

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    try {
      metrics.inboxPending.set(await pendingInboxCount(db))
      for (const [crm, depth] of await outboxDepthByCrm(db, providers.all().map((p) => p.kind))) {
        metrics.writebackPending.set({ crm }, depth.pending)
        metrics.writebackOldestPending.set({ crm }, depth.oldestSeconds)
      }
    } catch {
      // Metrics stay available while the database is down; the gauge keeps its last value.
    }
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
}
