import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'

// A webhook body can be checked only once it has all arrived, so until then anyone can make us
// hold it. Bodies being received are bounded per source: a request without the signature header
// is refused before its body is read, and one that would take the bytes in flight past the
// budget is answered 503 at once (the platforms retry), so a flood of bad signatures cannot grow
// memory. Counted per instance.

export interface IntakeBudget {
  /** Metric and error label, e.g. "whatsapp". */
  source: string
  /** Bytes of bodies being received at once, at most. */
  maxInFlightBytes: number
  /** The route's body limit: what a request without Content-Length may still send. */
  bodyLimit: number
  /** The headers that carry the platform's signature; a request with none of them is refused unread. */
  signatureHeaders: string[]
  onRefused?: (reason: 'unsigned' | 'busy') => void
}

/** Applies to the POST routes of the plugin it is called in. */
export function boundIntake(app: FastifyInstance, budget: IntakeBudget): void {
  let inFlight = 0
  const held = new WeakMap<FastifyRequest, number>()
  const release = async (request: FastifyRequest) => {
    const bytes = held.get(request)
    if (bytes === undefined) return
    held.delete(request)
    inFlight -= bytes
  }
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return
    if (!budget.signatureHeaders.some((h) => request.headers[h])) {
      budget.onRefused?.('unsigned')
      // Closing the connection stops the sender there instead of making us read the body to discard it.
      reply.header('connection', 'close')
      throw new AppError(401, 'BAD_SIGNATURE', `${budget.signatureHeaders.join(' or ')} is missing`)
    }
    const declared = Number(request.headers['content-length'])
    const bytes = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, budget.bodyLimit) : budget.bodyLimit
    if (inFlight + bytes > budget.maxInFlightBytes && inFlight > 0) {
      budget.onRefused?.('busy')
      reply.header('retry-after', '1').header('connection', 'close')
      throw new AppError(503, 'WEBHOOK_INTAKE_BUSY', `Too many ${budget.source} webhook bodies are being received at once; retry shortly`)
    }
    inFlight += bytes
    held.set(request, bytes)
  })
  app.addHook('onResponse', release)
  app.addHook('onRequestAbort', release)
}
