import { Type } from '@sinclair/typebox'
import { SEGMENT_SOURCE_TYPES } from '../../crm-adapters/crm-adapter.ts'
import { literalUnion, NextCursor } from './common.ts'

const PropertyName = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z][A-Za-z0-9_.]*$' })

export const CreateSegmentBody = Type.Object({
  installationId: Type.String({ format: 'uuid' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  source: Type.Object({
    type: literalUnion(SEGMENT_SOURCE_TYPES),
    id: Type.String({ minLength: 1, maxLength: 200 }),
  }, { additionalProperties: false }),
  phoneProperties: Type.Array(PropertyName, { minItems: 1, maxItems: 10, description: 'Tried in order, e.g. ["mobilephone", "phone"]' }),
  defaultCountry: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166 country for numbers written without one' }),
  consentProperty: Type.Optional(PropertyName),
  copyProperties: Type.Optional(Type.Array(PropertyName, { maxItems: 50 })),
  schedule: Type.Optional(Type.String({ minLength: 9, maxLength: 100, description: 'cron expression, e.g. "0 * * * *"' })),
  listIsOptIn: Type.Optional(Type.Object({
    evidence: Type.String({ minLength: 3, maxLength: 2000, description: 'How joining this list is the person\'s opt-in (e.g. the sign-up form that adds them)' }),
  }, { additionalProperties: false, description: 'The CRM list is itself the record of opt-in: each member joining it is recorded as an opt-in with this evidence' })),
}, { additionalProperties: false })

export const SegmentCounts = Type.Object({ members: Type.Integer(), reachable: Type.Integer(), optedIn: Type.Integer(), optedOut: Type.Integer(), noConsent: Type.Integer(), invalidPhone: Type.Integer() })

export const SegmentSync = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
  mode: Type.Union([Type.Literal('full'), Type.Literal('incremental')], { description: 'incremental: only what the CRM reported changed since the last sync' }),
  trigger: Type.String(),
  added: Type.Integer(),
  removed: Type.Integer(),
  unchanged: Type.Integer(),
  invalid: Type.Integer(),
  crmCalls: Type.Integer(),
  pages: Type.Integer(),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  error: Type.Optional(Type.Object({ code: Type.Union([Type.String(), Type.Null()]), message: Type.String() })),
})

export const SegmentView = Type.Object({
  id: Type.String(),
  installationId: Type.String(),
  name: Type.String(),
  source: Type.Object({ type: Type.String(), id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  phoneProperties: Type.Array(Type.String()),
  defaultCountry: Type.String(),
  consentProperty: Type.Union([Type.String(), Type.Null()]),
  copyProperties: Type.Array(Type.String()),
  schedule: Type.Union([Type.String(), Type.Null()]),
  listIsOptIn: Type.Union([Type.Object({ evidence: Type.String() }), Type.Null()]),
  counts: SegmentCounts,
  lastSync: Type.Union([SegmentSync, Type.Null()]),
  syncs: Type.Optional(Type.Array(SegmentSync)),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})

export const SegmentList = Type.Array(SegmentView)

export const SyncNowQuery = Type.Object({ wait: Type.Optional(Type.Boolean()), full: Type.Optional(Type.Boolean()) })

export const SyncStarted = Type.Object({ syncId: Type.String() })

export const SyncParams = Type.Object({ id: Type.String({ format: 'uuid' }), syncId: Type.String({ format: 'uuid' }) })

export const MemberPage = Type.Object({
  members: Type.Array(Type.Object({
    objectType: Type.String(), recordId: Type.String(), phone: Type.Union([Type.String(), Type.Null()]), phoneStatus: Type.String(),
    consent: Type.Union([Type.String(), Type.Null()]), properties: Type.Record(Type.String(), Type.Unknown()),
  })),
  nextCursor: NextCursor,
})
