import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isSupportedCountry } from 'libphonenumber-js'
import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import { AppError, notFound } from '../../errors.ts'
import { findInstallation } from '../../installations/installation-repository.ts'
import { ErrorResponses, IdParams, PageQuery } from '../../schemas/common.ts'
import { CreateSegmentBody, MemberPage, SegmentList, SegmentSync, SegmentView, SyncNowQuery, SyncParams, SyncStarted } from '../../schemas/segments.ts'
import { validCron, type SegmentScheduler } from '../../segments/segment-scheduler.ts'
import { memberPage, segmentCounts } from '../../segments/membership-repository.ts'
import { findSegment, findSync, insertSegment, listSegments, syncHistory, type Segment } from '../../segments/segment-repository.ts'
import { SyncAlreadyRunningError, type SegmentSyncer } from '../../segments/segment-sync.ts'
import type { RouteOptions } from '../../services.ts'
import { crmFailure } from './crm-failure.ts'

export const segmentRoutes: FastifyPluginAsyncTypebox<RouteOptions & { syncer: SegmentSyncer; scheduler: SegmentScheduler }> = async (app, { services, syncer, scheduler }) => {
  const view = async (s: Segment, withHistory: boolean) => {
    const history = await syncHistory(services.db, s.id, withHistory ? 20 : 1)
    return {
      id: s.id,
      installationId: s.installationId,
      name: s.name,
      source: s.source,
      phoneProperties: s.phoneProperties,
      defaultCountry: s.defaultCountry,
      consentProperty: s.consentProperty,
      copyProperties: s.copyProperties,
      schedule: s.schedule,
      listIsOptIn: s.listIsOptIn,
      counts: await segmentCounts(services.db, s),
      lastSync: history[0] ?? null,
      ...(withHistory ? { syncs: history } : {}),
      createdAt: s.createdAt.toISOString(),
      updatedAt: s.updatedAt.toISOString(),
    }
  }

  const load = async (id: string) => {
    const s = await findSegment(services.db, id)
    if (!s) throw notFound('Segment', id)
    return s
  }

  app.post('/segments', {
    schema: { tags: ['segments'], summary: 'Map a CRM list to a WhatsApp audience', body: CreateSegmentBody, response: { 201: SegmentView, ...ErrorResponses } },
  }, async (request, reply) => {
    const body = request.body
    if (!isSupportedCountry(body.defaultCountry)) throw new AppError(400, 'INVALID_COUNTRY', `defaultCountry ${body.defaultCountry} is not a country with a phone numbering plan`)
    if (body.schedule && !validCron(body.schedule)) throw new AppError(400, 'INVALID_SCHEDULE', `schedule "${body.schedule}" is not a valid cron expression`)
    const installation = await findInstallation(services.db, body.installationId)
    if (!installation) throw new AppError(422, 'UNKNOWN_INSTALLATION', `Installation ${body.installationId} does not exist`)
    if (installation.status !== 'active') throw new AppError(422, 'INSTALLATION_INACTIVE', `Installation ${installation.id} is ${installation.status}; reinstall the app first`)
    const sourceType = body.source.type
    const provider = services.providers.forSourceType(sourceType)
    if (provider?.kind !== installation.crm) throw new AppError(400, 'SOURCE_CRM_MISMATCH', `A ${sourceType} source needs a ${provider?.label ?? 'other'} installation; ${installation.id} is ${installation.crm}`)
    let sourceName: string | null
    try {
      sourceName = (await services.crm.for(installation).getSegmentSource({ type: sourceType, id: body.source.id })).name
    } catch (error) {
      if (error instanceof CrmError && error.code === 'NOT_FOUND') throw new AppError(422, 'SOURCE_NOT_FOUND', `The ${installation.crm} source ${body.source.id} does not exist or is not visible to the installing user`)
      throw crmFailure(error, provider.label)
    }
    const segment = await insertSegment(services.db, {
      installationId: installation.id,
      name: body.name,
      source: { type: sourceType, id: body.source.id, name: sourceName },
      phoneProperties: body.phoneProperties,
      defaultCountry: body.defaultCountry,
      consentProperty: body.consentProperty ?? null,
      copyProperties: body.copyProperties ?? [],
      schedule: body.schedule ?? null,
      listIsOptIn: body.listIsOptIn ?? null,
    })
    if (segment.schedule) scheduler.schedule(segment.id, segment.schedule)
    return reply.code(201).send(await view(segment, false))
  })

  app.get('/segments', { schema: { tags: ['segments'], summary: 'Segments with counts and their last sync', response: { 200: SegmentList, ...ErrorResponses } } }, async () => {
    return Promise.all((await listSegments(services.db)).map((s) => view(s, false)))
  })

  app.get('/segments/:id', {
    schema: { tags: ['segments'], summary: 'A segment with counts and its sync history', params: IdParams, response: { 200: SegmentView, ...ErrorResponses } },
  }, async (request) => view(await load(request.params.id), true))

  app.post('/segments/:id/sync', {
    schema: {
      tags: ['segments'],
      summary: 'Sync now (202 with the sync id; ?wait=true answers when it has finished; ?full=true reads the whole source)',
      params: IdParams,
      querystring: SyncNowQuery,
      response: { 202: SyncStarted, 200: SegmentSync, ...ErrorResponses },
    },
  }, async (request, reply) => {
    const segment = await load(request.params.id)
    try {
      const q = request.query
      const { syncId, done } = await syncer.start(segment.id, 'manual', { full: q.full })
      if (q.wait) return reply.code(200).send(await done)
      return reply.code(202).send({ syncId })
    } catch (error) {
      if (error instanceof SyncAlreadyRunningError) throw new AppError(409, 'SYNC_RUNNING', error.message, { syncId: error.syncId })
      throw error
    }
  })

  app.get('/segments/:id/syncs/:syncId', {
    schema: { tags: ['segments'], summary: 'One sync', params: SyncParams, response: { 200: SegmentSync, ...ErrorResponses } },
  }, async (request) => {
    const { id, syncId } = request.params
    // A sub-resource answers only under its own segment.
    const sync = await findSync(services.db, syncId, id)
    if (!sync) throw notFound(`Sync of segment ${id}`, syncId)
    return sync
  })

  app.get('/segments/:id/members', {
    schema: {
      tags: ['segments'],
      summary: 'Members, paged by cursor, each with its consent',
      params: IdParams,
      querystring: PageQuery,
      response: { 200: MemberPage, ...ErrorResponses },
    },
  }, async (request) => {
    const segment = await load(request.params.id)
    const q = request.query
    let after: { objectType: string; recordId: string } | undefined
    if (q.cursor) {
      try {
        after = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')) as { objectType: string; recordId: string }
        if (typeof after.objectType !== 'string' || typeof after.recordId !== 'string') throw new Error('bad cursor')
      } catch {
        throw new AppError(400, 'INVALID_CURSOR', 'cursor is not one this API returned')
      }
    }
    const limit = q.limit ?? 100
    const members = await memberPage(services.db, segment, after, limit)
    const last = members[members.length - 1]
    const nextCursor = members.length === limit && last ? Buffer.from(JSON.stringify({ objectType: last.objectType, recordId: last.recordId })).toString('base64url') : null
    return { members, nextCursor }
  })
}
