import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Readable } from 'node:stream'
import { consentLogCsv } from '../../consent/consent-csv.ts'
import { ConsentExportCsv, ConsentExportQuery } from '../../schemas/consent.ts'
import { consentRecord, resolvePerson } from '../../consent/consent-record.ts'
import { recordConsentEvent } from '../../consent/consent-ledger.ts'
import { AppError } from '../../errors.ts'
import { findInstallation } from '../../installations/installation-repository.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { ConsentQuery, ConsentRecord, ManualConsentChange } from '../../schemas/consent.ts'
import type { RouteOptions } from '../../services.ts'
import { recordConsentAndWriteBack } from '../../writeback/consent-writebacks.ts'
import { personParam } from './person-param.ts'

export const consentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/consent/export', {
    schema: {
      tags: ['consent'],
      summary: 'The consent log as CSV (text/csv, header row, one event a row), recorded in [from, to), streamed',
      querystring: ConsentExportQuery,
      response: { 200: ConsentExportCsv, ...ErrorResponses },
    },
  }, async (request, reply) => {
    const from = request.query.from ? new Date(request.query.from) : undefined
    const to = request.query.to ? new Date(request.query.to) : undefined
    if (from && to && from > to) throw new AppError(400, 'INVALID_RANGE', 'from lies after to')
    // Not in object mode: the stream stops pulling pages once a page's bytes are buffered, so the
    // export advances only as fast as the client reads.
    const csv = Readable.from(consentLogCsv(services.db, { from, to }), { objectMode: false })
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="consent-log.csv"').send(csv)
  })

  app.get('/consent', {
    schema: {
      tags: ['consent'],
      summary: 'Current consent of a person (by phone or WhatsApp user id) and its full audit trail',
      querystring: ConsentQuery,
      response: { 200: ConsentRecord, ...ErrorResponses },
    },
  }, async (request) => {
    const q = request.query
    return consentRecord(services.db, personParam(q), q.installationId)
  })

  app.post('/consent', {
    schema: {
      tags: ['consent'],
      summary: 'Record a manual consent change with its evidence',
      body: ManualConsentChange,
      response: { 201: ConsentRecord, ...ErrorResponses },
    },
  }, async (request, reply) => {
    const body = request.body
    const who = personParam(body)
    if (body.installationId && !(await findInstallation(services.db, body.installationId))) {
      throw new AppError(422, 'UNKNOWN_INSTALLATION', `Installation ${body.installationId} does not exist`)
    }
    const occurredAt = body.occurredAt ? new Date(body.occurredAt) : new Date()
    if (occurredAt.getTime() > Date.now() + 5 * 60_000) throw new AppError(400, 'OCCURRED_IN_FUTURE', 'occurredAt lies in the future')
    const { person } = await resolvePerson(services.db, who)
    if (!person.phone && !person.whatsappUserId) throw new AppError(422, 'UNKNOWN_WHATSAPP_USER', `No WhatsApp user ${who.userId} has been seen; record consent by phone`)
    // One transaction: the event and its CRM write-backs are recorded together or not at all.
    const event = { whatsappUserId: person.whatsappUserId ?? null, installationId: body.installationId ?? null, state: body.state, source: 'manual', evidence: body.evidence, occurredAt }
    // CRM records are found by phone: a person known only by user id has none to write back to yet.
    await services.db.transaction((tx) => (person.phone ? recordConsentAndWriteBack(tx, { ...event, phone: person.phone }) : recordConsentEvent(tx, event)))
    return reply.code(201).send(await consentRecord(services.db, who, body.installationId))
  })
}
