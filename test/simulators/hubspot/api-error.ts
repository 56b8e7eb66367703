// HubSpot-shaped error bodies. Route handlers throw ApiError; the app's error handler renders it.
import { randomUUID } from 'node:crypto'
import type { FastifyReply } from 'fastify'

export class ApiError extends Error {
  readonly statusCode: number
  readonly category: string
  readonly extra: Record<string, unknown>
  constructor(statusCode: number, category: string, message: string, extra: Record<string, unknown> = {}) {
    super(message)
    this.statusCode = statusCode
    this.category = category
    this.extra = extra
  }
}

/** `{ status:'error', message, correlationId, category, ...extra }` as the CRM APIs answer. */
export function errorBody(category: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra }
}

export const validation = (message: string, extra?: Record<string, unknown>): ApiError => new ApiError(400, 'VALIDATION_ERROR', message, extra)

export const notFound = (message: string, extra?: Record<string, unknown>): ApiError => new ApiError(404, 'OBJECT_NOT_FOUND', message, extra)

/**
 * OAuth endpoints answer RFC 6749 errors and keep the legacy `status`/`message` pair
 * (HubSpot's standardised OAuth error format).
 */
export function sendOAuthError(reply: FastifyReply, error: string, description: string, legacyStatus: string, httpStatus = 400): FastifyReply {
  return reply.code(httpStatus).send({
    error,
    error_description: description,
    status: legacyStatus,
    message: description,
    correlationId: randomUUID(),
  })
}
