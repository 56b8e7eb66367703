import { Type, type SchemaOptions, type TLiteral, type TUnion } from '@sinclair/typebox'
import { BSUID_PATTERN } from '../whatsapp/bsuid.ts'

// Pieces several resources share. Every error answer has one shape (plugins/error-handler.ts).

type LiteralOf<V> = V extends string ? TLiteral<V> : never

/**
 * A union of one literal per value. Typed as a one-element tuple of the literals' union because the
 * type provider infers a union only from a tuple: a mapped array would make requests `never`.
 */
export function literalUnion<T extends string>(values: readonly T[], options?: SchemaOptions): TUnion<[LiteralOf<T>]> {
  return Type.Union(values.map((v) => Type.Literal(v)), options) as TUnion<[LiteralOf<T>]>
}


export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String({ description: 'The HTTP status name' }),
  code: Type.String({ description: 'Stable, machine-readable: VALIDATION_ERROR, NOT_FOUND, …' }),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
}, { description: 'An error' })

/** Spread into a route's `response`: every 4xx and 5xx answer is an ErrorResponse. */
export const ErrorResponses = { '4xx': ErrorResponse, '5xx': ErrorResponse }

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

/** Checked by routes/api/phone-param.ts rather than by a pattern, so a bad number gets INVALID_PHONE. */
export const e164Phone = (description = 'E.164, e.g. +4915123456789') => Type.String({ description })

/** A WhatsApp business-scoped user id (BSUID), for people who do not share their phone. */
export const whatsappUserId = (description = 'WhatsApp business-scoped user id (BSUID), e.g. DE.80571294630518824417') =>
  Type.String({ pattern: BSUID_PATTERN, maxLength: 140, description })

export const PageQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
})

export const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last one' })
