import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { consentHistory, consentStatusByInstallation, currentState, recordConsentEvent } from '../../consent/consent-ledger.ts'
import { AppError } from '../../errors.ts'
import { findInstallation, installationsOf } from '../../installations/installation-repository.ts'
import type { RouteOptions } from '../../services.ts'
import { phoneParam } from './phone-param.ts'

const Event = Type.Object({
  state: Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out')]),
  source: Type.String(),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  occurredAt: Type.String(),
  recordedAt: Type.String(),
  installationId: Type.Union([Type.String(), Type.Null()]),
})

const State = Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out'), Type.Literal('unknown')])

const ConsentRecord = Type.Object({
  phone: Type.String(),
  state: State,
  events: Type.Array(Event),
  writebacks: Type.Array(Type.Unknown()),
  installations: Type.Array(Type.Object({
    installationId: Type.String(),
    crm: Type.String(),
    accountId: Type.String(),
    state: State,
  }), { description: 'The state in each CRM installation the number belongs to: WhatsApp signals count for all, CRM signals for their own' }),
})

const ManualChange = Type.Object({
  phone: Type.String({ description: 'E.164, e.g. +4915123456789' }),
  state: Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out')]),
  evidence: Type.Object({
    note: Type.String({ minLength: 3, maxLength: 2000, description: 'How and when the person gave or withdrew consent' }),
    collectedBy: Type.Optional(Type.String({ maxLength: 200 })),
    reference: Type.Optional(Type.String({ maxLength: 500 })),
  }, { additionalProperties: false }),
  occurredAt: Type.Optional(Type.String({ format: 'date-time' })),
  installationId: Type.Optional(Type.String({ format: 'uuid' })),
}, { additionalProperties: false })

export const consentRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const consentRecord = async (phone: string, installationId: string | undefined) => {
    const events = await consentHistory(services.db, phone, installationId)
    const known = await installationsOf(services.db, phone, installationId)
    const states = await consentStatusByInstallation(services.db, phone, known.map((i) => i.id))
    const installations = known.map((i) => ({ installationId: i.id, crm: i.crm, accountId: i.accountId, state: states.get(i.id) ?? 'unknown' }))
    return { phone, state: currentState(events), events, writebacks: [], installations }
  }

  app.get('/consent', {
    schema: {
      tags: ['consent'],
      summary: 'Current consent of a phone number and its full audit trail',
      querystring: Type.Object({ phone: Type.String(), installationId: Type.Optional(Type.String({ format: 'uuid' })) }),
      response: { 200: ConsentRecord },
    },
  }, async (request) => {
    const q = request.query as { phone: string; installationId?: string }
    return consentRecord(phoneParam(q.phone), q.installationId)
  })

  app.post('/consent', {
    schema: {
      tags: ['consent'],
      summary: 'Record a manual consent change with its evidence',
      body: ManualChange,
      response: { 201: ConsentRecord },
    },
  }, async (request, reply) => {
    const body = request.body as typeof ManualChange.static
    const phone = phoneParam(body.phone)
    if (body.installationId && !(await findInstallation(services.db, body.installationId))) {
      throw new AppError(422, 'UNKNOWN_INSTALLATION', `Installation ${body.installationId} does not exist`)
    }
    const occurredAt = body.occurredAt ? new Date(body.occurredAt) : new Date()
    if (occurredAt.getTime() > Date.now() + 5 * 60_000) throw new AppError(400, 'OCCURRED_IN_FUTURE', 'occurredAt lies in the future')
    await recordConsentEvent(services.db, {
      phone,
      installationId: body.installationId ?? null,
      state: body.state,
      source: 'manual',
      evidence: body.evidence,
      occurredAt,
    })
    return reply.code(201).send(await consentRecord(phone, body.installationId))
  })
}
