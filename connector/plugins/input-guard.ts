import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors.ts'

// Text PostgreSQL cannot store, refused at the door: a NUL character anywhere, or half of a UTF-16
// surrogate pair (which no UTF-8 encoding exists for). Without this they reach SQL or
// encodeURIComponent and fail there as 500s. Raw bodies (signed webhooks) are left to their routes,
// which must keep every delivery.

const MAX_DEPTH = 32

/** The path of the first string in `value` that cannot be stored, or undefined. */
function unstorable(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? path : undefined
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || Buffer.isBuffer(value)) return undefined
  for (const [key, v] of Object.entries(value)) {
    const keyProblem = unstorable(key, `${path}/${key}`)
    if (keyProblem) return keyProblem
    const problem = unstorable(v, `${path}/${key}`, depth + 1)
    if (problem) return problem
  }
  return undefined
}

function check(request: FastifyRequest): void {
  for (const [part, value] of [['params', request.params], ['querystring', request.query], ['body', request.body]] as const) {
    const path = unstorable(value, part)
    if (path) throw new AppError(400, 'INVALID_CHARACTERS', `${path} holds a NUL character or an unpaired UTF-16 surrogate, which cannot be stored`)
  }
}

const inputGuard: FastifyPluginAsync = async (app) => {
  app.addHook('preValidation', async (request) => check(request))
}

export default fp(inputGuard, { name: 'input-guard' })
