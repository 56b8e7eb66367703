import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError } from '../../errors.ts'
import { installationsByIds } from '../../installations/installation-repository.ts'
import { connectNumber } from '../../numbers/connect-number.ts'
import { listNumbers, publicNumber, type WhatsAppNumberWithToken } from '../../numbers/number-repository.ts'
import { installationsOfNumber } from '../../numbers/number-scope-repository.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { ConnectNumberBody, WhatsAppNumber, WhatsAppNumberList } from '../../schemas/whatsapp-numbers.ts'
import type { RouteOptions } from '../../services.ts'
import { GraphError, GraphTransportError } from '../../whatsapp/graph-errors.ts'

export const whatsappNumberRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const view = async (n: WhatsAppNumberWithToken) => ({ ...publicNumber(n), installationIds: await installationsOfNumber(services.db, n.id) })

  app.post('/whatsapp-numbers', {
    schema: {
      tags: ['whatsapp'],
      summary: 'Connect a WhatsApp Cloud API number (checked against Graph first)',
      body: ConnectNumberBody,
      response: { 201: WhatsAppNumber, 200: WhatsAppNumber, ...ErrorResponses },
    },
  }, async (request, reply) => {
    const wanted = request.body.installationIds ?? []
    const found = new Set((await installationsByIds(services.db, wanted)).map((i) => i.id))
    const unknown = wanted.filter((id) => !found.has(id))
    if (unknown.length) throw new AppError(422, 'UNKNOWN_INSTALLATION', `Installation ${unknown.join(', ')} does not exist; nothing was stored`)
    try {
      const { number, created } = await connectNumber(services, request.body)
      request.log.info({ numberId: number.id, created }, 'WhatsApp number connected')
      return reply.code(created ? 201 : 200).send(await view(number))
    } catch (error) {
      if (error instanceof GraphError) {
        services.metrics.platformErrors.inc({ platform: 'graph', code: String(error.code) })
        throw new AppError(422, 'GRAPH_REFUSED', `Meta refused the number: ${error.message}`, { graph: error.toJSON() })
      }
      if (error instanceof GraphTransportError) throw new AppError(502, 'GRAPH_UNREACHABLE', 'The Graph API could not be reached; try again')
      throw error
    }
  })

  app.get('/whatsapp-numbers', {
    schema: { tags: ['whatsapp'], summary: 'Connected numbers (never their tokens)', response: { 200: WhatsAppNumberList, ...ErrorResponses } },
  }, async () => Promise.all((await listNumbers(services.db)).map(view)))
}
