import type { FastifyError, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { isConnectionError } from '../db/database.ts'
import { AppError } from '../errors.ts'

// One error shape for every route: Fastify's (statusCode, error, message) plus a stable `code`.
// Our AppErrors carry theirs; an unreachable database is 503 so platforms retry; validation is 400.

const NAMES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable',
}

export function httpErrorName(status: number): string {
  return NAMES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error')
}

const errorHandler: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      return reply.code(error.statusCode).send({
        statusCode: error.statusCode, error: httpErrorName(error.statusCode), code: error.code, message: error.message,
        ...(error.details ? { details: error.details } : {}),
      })
    }
    if (isConnectionError(error)) {
      request.log.warn('database unreachable')
      return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', code: 'DATABASE_UNAVAILABLE', message: 'The database cannot be reached; retry later' })
    }
    if (error.validation) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', code: 'VALIDATION_ERROR', message: error.message })
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) {
      // Whatever failed (a database, a library) keeps its code and text to the log.
      request.log.error({ err: error }, 'request failed')
      return reply.code(500).send({ statusCode: 500, error: httpErrorName(500), code: 'INTERNAL_ERROR', message: 'Internal error' })
    }
    return reply.code(status).send({ statusCode: status, error: httpErrorName(status), code: error.code ?? 'BAD_REQUEST', message: error.message })
  })
}

export default fp(errorHandler, { name: 'error-handler' })
