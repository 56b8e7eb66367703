import type { FastifyInstance } from 'fastify'
import type { SimContext } from './context.ts'
import { limitsBody } from './limits.ts'
import { identityUrl } from './oauth-routes.ts'
import { rest } from './rest-guard.ts'

// The version root: resources list (jsforce's identity() reads `identity` from it) and /limits.

export function registerRootRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.get('/', { config: { endpoint: 'resources' } }, (request) => {
    const { org, version } = rest(request)
    const base = `/services/data/${version}`
    const resources = ['tooling', 'metadata', 'eclair', 'folders', 'prechatForms', 'contact-tracing', 'jsonxform', 'chatter', 'tabs', 'appMenu', 'quickActions',
      'queryAll', 'commerce', 'wave', 'iot', 'analytics', 'search', 'smartdatadiscovery', 'identity', 'composite', 'parameterizedSearch', 'fingerprint', 'theme',
      'nouns', 'event', 'serviceTemplates', 'recent', 'connect', 'licensing', 'limits', 'process', 'async-queries', 'query', 'match', 'emailConnect',
      'compactLayouts', 'knowledgeManagement', 'sobjects', 'actions', 'support']
    return Object.fromEntries(resources.map((r) => [r, r === 'identity' ? identityUrl(ctx.baseUrl(), org) : `${base}/${r}`]))
  })

  app.get('/limits', { config: { endpoint: 'limits' } }, (request) => {
    const { org } = rest(request)
    return limitsBody(org.usage, org.dailyApiLimit, ctx.clock.now())
  })
}

/** GET /services/data/: the versions list needs no session and does not count against limits. */
export function registerVersionsRoute(app: FastifyInstance): void {
  app.get('/services/data', () =>
    [50, 55, 58, 59, 60, 61, 62, 63, 64, 65].map((v) => ({
      label: `v${v}.0`,
      url: `/services/data/v${v}.0`,
      version: `${v}.0`,
    })))
}
