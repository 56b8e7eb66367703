import rateLimit from '@fastify/rate-limit'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors.ts'

// Rate limits where a caller can make us work or guess: wrong bearer tokens and install starts per
// client address, card and action calls per CRM account after their signature. Never on the
// platforms' signed webhooks, which must always be stored. Counters are per instance: several
// instances together allow the limit times their number.

/** Wrong admin or metrics tokens one client address may send per minute. */
export const WRONG_TOKENS_PER_MINUTE = 20
/** Install starts (each writes an OAuth state) one client address may make per minute. */
export const INSTALL_STARTS_PER_MINUTE = 30

const rateLimits: FastifyPluginAsync = async (app) => {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, 'RATE_LIMITED', `Too many requests: at most ${context.max} per ${context.after}; retry in ${Math.ceil(context.ttl / 1000)} s`),
  })
}

export default fp(rateLimits, { name: 'rate-limits' })
