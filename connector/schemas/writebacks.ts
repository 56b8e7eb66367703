import { Type } from '@sinclair/typebox'
import { literalUnion, NextCursor } from './common.ts'

export const WRITEBACK_STATUSES = ['pending', 'done', 'failed'] as const

export const WritebackQuery = Type.Object({
  status: Type.Optional(literalUnion(WRITEBACK_STATUSES)),
  installationId: Type.Optional(Type.String({ format: 'uuid' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'nextCursor of the previous page' })),
})

export const WritebackParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) })

export const Writeback = Type.Object({
  id: Type.String(),
  installationId: Type.String(),
  crm: Type.Optional(Type.String()),
  objectType: Type.String(),
  recordId: Type.String(),
  kind: Type.String({ description: 'consent (the engagement write-back will add its own)' }),
  payload: Type.Unknown({ description: "The kind's own write, e.g. { state, source, phone } for consent" }),
  occurredAt: Type.String({ format: 'date-time', description: 'When the change happened at its source' }),
  status: literalUnion(WRITEBACK_STATUSES, { description: 'failed: refused for good by the CRM (the dead letter); retry replays it' }),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()], { description: 'The last failure, with its reason' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
})

export const WritebackPage = Type.Object({
  writebacks: Type.Array(Writeback),
  nextCursor: NextCursor,
})
