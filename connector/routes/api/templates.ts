import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError, notFound } from '../../errors.ts'
import { findNumber } from '../../numbers/number-repository.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { TemplateList, TemplatesOfNumber } from '../../schemas/templates.ts'
import type { RouteOptions } from '../../services.ts'
import { listTemplates, replaceTemplates } from '../../templates/template-repository.ts'
import { GraphError, GraphTransportError } from '../../whatsapp/graph-errors.ts'

export const templateRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const numberOf = async (id: string) => {
    const n = await findNumber(services.db, id)
    if (!n) throw notFound('WhatsApp number', id)
    return n
  }

  app.get('/templates', {
    schema: { tags: ['whatsapp'], summary: 'Message templates of the number\'s WhatsApp Business Account, as last synced', querystring: TemplatesOfNumber, response: { 200: TemplateList, ...ErrorResponses } },
  }, async (request) => listTemplates(services.db, (await numberOf(request.query.numberId)).wabaId))

  app.post('/templates/sync', {
    schema: { tags: ['whatsapp'], summary: 'Read the account\'s templates from Graph now', body: TemplatesOfNumber, response: { 200: TemplateList, ...ErrorResponses } },
  }, async (request) => {
    const number = await numberOf(request.body.numberId)
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
