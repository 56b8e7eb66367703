import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'

// Bearer ADMIN_TOKEN for /api/v1 and /admin. Without a configured token those routes answer 503
// and say why, rather than being open.

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}

export function adminAuthHook(adminToken: string | undefined) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!adminToken) throw new AppError(503, 'ADMIN_TOKEN_NOT_CONFIGURED', 'The admin API is disabled: set ADMIN_TOKEN to enable it')
    const header = request.headers.authorization
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null
    if (!match || !sameSecret(match[1]!.trim(), adminToken)) {
      throw new AppError(401, 'UNAUTHORIZED', 'Missing or wrong bearer token: send Authorization: Bearer <ADMIN_TOKEN>')
    }
  }
}

export function requireAdmin(app: FastifyInstance, adminToken: string | undefined): void {
  app.addHook('onRequest', adminAuthHook(adminToken))
}
