import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { consentRecord } from '../../consent/consent-record.ts'
import { AppError } from '../../errors.ts'
import { findInstallation } from '../../installations/installation-repository.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { ConsentQuery, ConsentRecord, ManualConsentChange } from '../../schemas/consent.ts'
import type { RouteOptions } from '../../services.ts'
import { recordConsentAndWriteBack } from '../../writeback/consent-writebacks.ts'
import { phoneParam } from './phone-param.ts'

export const consentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/consent', {
    schema: {
      tags: ['consent'],
      summary: 'Current consent of a phone number and its full audit trail',
      querystring: ConsentQuery,
      response: { 200: ConsentRecord, ...ErrorResponses },
    },
  }, async (request) => {
    const q = request.query
    return consentRecord(services.db, phoneParam(q.phone), q.installationId)
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
    const phone = phoneParam(body.phone)
    if (body.installationId && !(await findInstallation(services.db, body.installationId))) {
      throw new AppError(422, 'UNKNOWN_INSTALLATION', `Installation ${body.installationId} does not exist`)
    }
    const occurredAt = body.occurredAt ? new Date(body.occurredAt) : new Date()
    if (occurredAt.getTime() > Date.now() + 5 * 60_000) throw new AppError(400, 'OCCURRED_IN_FUTURE', 'occurredAt lies in the future')
    // One transaction: the event and its CRM write-backs are recorded together or not at all.
    await services.db.transaction((tx) => recordConsentAndWriteBack(tx, {
      phone,
      installationId: body.installationId ?? null,
      state: body.state,
      source: 'manual',
      evidence: body.evidence,
      occurredAt,
    }))
    return reply.code(201).send(await consentRecord(services.db, phone, body.installationId))
  })
}
