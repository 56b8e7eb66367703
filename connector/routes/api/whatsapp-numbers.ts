import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.ts'
import { connectNumber } from '../../numbers/connect-number.ts'
import { listNumbers, publicNumber } from '../../numbers/number-repository.ts'
import type { RouteOptions } from '../../services.ts'
import { GraphError, GraphTransportError } from '../../whatsapp/graph-errors.ts'

export const NumberSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  phoneNumberId: Type.String(),
  wabaId: Type.String(),
  displayPhoneNumber: Type.String(),
  verifiedName: Type.Union([Type.String(), Type.Null()]),
  qualityRating: Type.Union([Type.String(), Type.Null()]),
  messagesPerSecond: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
}, { $id: 'WhatsAppNumber' })

const ConnectBody = Type.Object({
  phoneNumberId: Type.String({ pattern: '^\\d{5,32}$', description: "Meta's phone number id (not the phone number)" }),
  wabaId: Type.String({ pattern: '^\\d{5,32}$', description: 'WhatsApp Business Account id' }),
  accessToken: Type.String({ minLength: 10, maxLength: 4096, description: 'System-user access token with whatsapp_business_messaging and whatsapp_business_management' }),
  messagesPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 80 })),
}, { additionalProperties: false })

export const whatsappNumberRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.post('/whatsapp-numbers', {
    schema: {
      tags: ['whatsapp'],
      summary: 'Connect a WhatsApp Cloud API number (checked against Graph first)',
      body: ConnectBody,
      response: { 201: NumberSchema, 200: NumberSchema },
    },
  }, async (request, reply) => {
    const body = request.body as typeof ConnectBody.static
    try {
      const { number, created } = await connectNumber(services, body)
      request.log.info({ numberId: number.id, created }, 'WhatsApp number connected')
      return reply.code(created ? 201 : 200).send(publicNumber(number))
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
    schema: { tags: ['whatsapp'], summary: 'Connected numbers (never their tokens)', response: { 200: Type.Array(NumberSchema) } },
  }, async () => (await listNumbers(services.db)).map(publicNumber))
}
