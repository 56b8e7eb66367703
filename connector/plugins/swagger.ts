import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'

// The OpenAPI document, generated from the route schemas, and its UI at /docs (behind the admin
// token unless the operator opens it). Each operation states how it is secured, from where it is
// mounted: the admin API takes the admin bearer token, webhooks their platform's signature.

const SECURITY: Array<{ test: (method: string, url: string) => boolean; security: Array<Record<string, string[]>> }> = [
  { test: (_m, url) => url.startsWith('/api/v1/') || url === '/admin' || url.startsWith('/admin/'), security: [{ admin: [] }] },
  { test: (_m, url) => url === '/metrics', security: [{ metrics: [] }, { admin: [] }] },
  { test: (m, url) => m === 'POST' && url === '/webhooks/whatsapp', security: [{ metaSignature: [] }] },
  { test: (m, url) => m === 'POST' && url.startsWith('/webhooks/hubspot'), security: [{ hubspotSignature: [] }] },
]

export interface OpenApiOptions {
  version: string
  /** Guards /docs and /docs/json; undefined: open. */
  guard: onRequestHookHandler | undefined
}

const openapi: FastifyPluginAsync<OpenApiOptions> = async (app, { version, guard }) => {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const rule = SECURITY.find((r) => methods.some((m) => r.test(m, route.url)))
    route.schema = { ...route.schema, security: rule?.security ?? [] }
  })
  await app.register(swagger, {
    openapi: {
      info: { title: 'WhatsApp Lists connector for HubSpot and Salesforce', version },
      components: {
        securitySchemes: {
          admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
          metrics: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
          metaSignature: { type: 'apiKey', in: 'header', name: 'X-Hub-Signature-256', description: "HMAC-SHA256 of the raw body with the Meta app's secret" },
          hubspotSignature: { type: 'apiKey', in: 'header', name: 'X-HubSpot-Signature-v3', description: "HubSpot's v3 request signature with X-HubSpot-Request-Timestamp" },
        },
      },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, ...(guard ? { uiHooks: { onRequest: guard } } : {}) })
}

export default fp(openapi, { name: 'openapi' })
