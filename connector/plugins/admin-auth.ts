import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'
import { WRONG_TOKENS_PER_MINUTE } from './rate-limits.ts'

// Bearer tokens for /api/v1, /admin, /metrics and /docs. Without a configured token those routes
// answer 503 and say why, rather than being open. Wrong tokens are counted per client address and
// refused with 429 past the limit, so a token cannot be guessed at line speed.

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}

export interface BearerAuth {
  /** The accepted tokens; none configured: 503 naming `variable`. */
  tokens: Array<string | undefined>
  variable: string
}

/** An onRequest hook that lets through only a request bearing one of the tokens. */
export function bearerHook(app: FastifyInstance, auth: BearerAuth) {
  const accepted = auth.tokens.filter((t): t is string => Boolean(t))
  const wrongTokens = app.createRateLimit({ max: WRONG_TOKENS_PER_MINUTE, timeWindow: 60_000 })
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!accepted.length) throw new AppError(503, `${auth.variable}_NOT_CONFIGURED`, `This route is disabled: set ${auth.variable} to enable it`)
    const status = await wrongTokens(request, { increment: false })
    if (!status.isAllowed && status.isExceeded) {
      reply.header('retry-after', String(status.ttlInSeconds))
      throw new AppError(429, 'TOO_MANY_WRONG_TOKENS', `Too many wrong tokens from this address; retry in ${status.ttlInSeconds} s`)
    }
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')
    const token = match?.[1]?.trim()
    if (!token || !accepted.some((t) => sameSecret(token, t))) {
      await wrongTokens(request)
      throw new AppError(401, 'UNAUTHORIZED', `Missing or wrong bearer token: send Authorization: Bearer <${auth.variable}>`)
    }
  }
}

export function requireBearer(app: FastifyInstance, auth: BearerAuth): void {
  app.addHook('onRequest', bearerHook(app, auth))
}

export function requireAdmin(app: FastifyInstance, adminToken: string | undefined): void {
  requireBearer(app, { tokens: [adminToken], variable: 'ADMIN_TOKEN' })
}
