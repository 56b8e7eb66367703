import { Type } from '@sinclair/typebox'
import type { Readable } from 'node:stream'
import { e164Phone, whatsappUserId } from './common.ts'

export const ConsentEvent = Type.Object({
  state: Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out')]),
  source: Type.String(),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  occurredAt: Type.String(),
  recordedAt: Type.String(),
  installationId: Type.Union([Type.String(), Type.Null()]),
})

export const ConsentState = Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out'), Type.Literal('unknown')])

/** A person's current consent, its audit trail and its state per CRM installation. */
export const ConsentRecord = Type.Object({
  phone: Type.Optional(Type.String({ description: 'E.164, when known' })),
  userId: Type.Optional(Type.String({ description: 'WhatsApp business-scoped user id, when known' })),
  state: ConsentState,
  events: Type.Array(ConsentEvent),
  writebacks: Type.Array(Type.Unknown()),
  installations: Type.Array(Type.Object({
    installationId: Type.String(),
    crm: Type.String(),
    accountId: Type.String(),
    state: ConsentState,
  }), { description: 'The state in each CRM installation the number belongs to: WhatsApp signals count for all, CRM signals for their own' }),
})

/** Exactly one of phone and userId (checked by routes/api/person-param.ts). */
export const ConsentQuery = Type.Object({
  phone: Type.Optional(e164Phone()),
  userId: Type.Optional(whatsappUserId()),
  installationId: Type.Optional(Type.String({ format: 'uuid' })),
})

export const ManualConsentChange = Type.Object({
  phone: Type.Optional(e164Phone()),
  userId: Type.Optional(whatsappUserId()),
  state: Type.Union([Type.Literal('opted_in'), Type.Literal('opted_out')]),
  evidence: Type.Object({
    note: Type.String({ minLength: 3, maxLength: 2000, description: 'How and when the person gave or withdrew consent' }),
    collectedBy: Type.Optional(Type.String({ maxLength: 200 })),
    reference: Type.Optional(Type.String({ maxLength: 500 })),
  }, { additionalProperties: false }),
  occurredAt: Type.Optional(Type.String({ format: 'date-time' })),
  installationId: Type.Optional(Type.String({ format: 'uuid' })),
}, { additionalProperties: false })

export const ConsentExportQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Events recorded at or after this time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Events recorded before this time' })),
})

/** The export's body: CSV text, sent as a stream (a stream is never serialized against a schema). */
export const ConsentExportCsv = Type.Unsafe<Readable>({ type: 'string', description: 'text/csv; charset=utf-8: a header row, then one event a row' })
