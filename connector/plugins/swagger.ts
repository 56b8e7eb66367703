import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

// The OpenAPI document, generated from the route schemas, and its UI at /docs.

const openapi: FastifyPluginAsync<{ version: string }> = async (app, { version }) => {
  await app.register(swagger, {
    openapi: {
      info: { title: 'WhatsApp Lists connector for HubSpot and Salesforce', version },
      components: { securitySchemes: { admin: { type: 'http', scheme: 'bearer' } } },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}

export default fp(openapi, { name: 'openapi' })
