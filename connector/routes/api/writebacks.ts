import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError, notFound } from '../../errors.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { WritebackPage, WritebackParams, WritebackQuery, Writeback } from '../../schemas/writebacks.ts'
import type { RouteOptions } from '../../services.ts'
import { findWriteback, listWritebacks, requeueFailedWriteback } from '../../writeback/writeback-repository.ts'
import { crmOfInstallations, writebackView } from '../../writeback/writeback-views.ts'

// The CRM write-back outbox: what is pending, done and dead-lettered, and replaying a dead letter.

export const writebackRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const { db } = services

  app.get('/writebacks', {
    schema: {
      tags: ['writebacks'],
      summary: 'CRM write-backs, newest first: pending, done, and failed with their reasons',
      querystring: WritebackQuery,
      response: { 200: WritebackPage, ...ErrorResponses },
    },
  }, async (request) => {
    const q = request.query
    const limit = q.limit ?? 100
    const rows = await listWritebacks(db, {
      limit: limit + 1,
      ...(q.status ? { status: q.status } : {}),
      ...(q.installationId ? { installationId: q.installationId } : {}),
      ...(q.cursor ? { beforeId: Number(q.cursor) } : {}),
    })
    const page = rows.slice(0, limit)
    const crms = await crmOfInstallations(db, page.map((w) => w.installationId))
    return {
      writebacks: page.map((w) => writebackView(w, crms.get(w.installationId))),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
    }
  })

  app.post('/writebacks/:id/retry', {
    schema: {
      tags: ['writebacks'],
      summary: 'Replay a dead-lettered write-back: it is pending again, due now',
      params: WritebackParams,
      response: { 200: Writeback, ...ErrorResponses },
    },
  }, async (request) => {
    const id = Number(request.params.id)
    const requeued = await requeueFailedWriteback(db, id)
    if (!requeued) {
      const existing = await findWriteback(db, id)
      if (!existing) throw notFound('Write-back', request.params.id)
      throw new AppError(409, 'WRITEBACK_NOT_FAILED', `Write-back ${id} is ${existing.status}; only a failed one can be retried`)
    }
    services.writebacks.nudge()
    const crms = await crmOfInstallations(db, [requeued.installationId])
    return writebackView(requeued, crms.get(requeued.installationId))
  })
}
