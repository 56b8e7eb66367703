import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { AppError, notFound } from '../../errors.ts'
import { findNumber } from '../../numbers/number-repository.ts'
import type { RouteOptions } from '../../services.ts'
import { listTemplates, replaceTemplates } from '../../templates/template-repository.ts'
import { GraphError, GraphTransportError } from '../../whatsapp/graph-errors.ts'

const Template = Type.Object({
  id: Type.String(),
  name: Type.String(),
  language: Type.String(),
  status: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  parameterFormat: Type.Union([Type.String(), Type.Null()]),
  bodyParameters: Type.Integer({ description: 'Placeholders in the body, each to be filled when sending' }),
  components: Type.Array(Type.Unknown()),
  syncedAt: Type.String(),
  updatedAt: Type.String(),
})

const NumberQuery = Type.Object({ numberId: Type.String({ format: 'uuid' }) })

export const templateRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const numberOf = async (id: string) => {
    const n = await findNumber(services.db, id)
    if (!n) throw notFound('WhatsApp number', id)
    return n
  }

  app.get('/templates', {
    schema: { tags: ['whatsapp'], summary: 'Message templates of the number\'s WhatsApp Business Account, as last synced', querystring: NumberQuery, response: { 200: Type.Array(Template) } },
  }, async (request) => listTemplates(services.db, (await numberOf((request.query as { numberId: string }).numberId)).wabaId))

  app.post('/templates/sync', {
    schema: { tags: ['whatsapp'], summary: 'Read the account\'s templates from Graph now', body: NumberQuery, response: { 200: Type.Array(Template) } },
  }, async (request) => {
    const number = await numberOf((request.body as { numberId: string }).numberId)
    try {
      const templates = await services.graph.listTemplates(number.wabaId, services.secrets.open(number.accessTokenSealed))
      await replaceTemplates(services.db, number.wabaId, templates)
    } catch (error) {
      if (error instanceof GraphError) throw new AppError(422, 'GRAPH_REFUSED', `Meta refused the template listing: ${error.message}`, { graph: error.toJSON() })
      if (error instanceof GraphTransportError) throw new AppError(502, 'GRAPH_UNREACHABLE', 'The Graph API could not be reached; try again')
      throw error
    }
    return listTemplates(services.db, number.wabaId)
  })
}
