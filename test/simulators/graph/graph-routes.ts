// The Graph API endpoints the connector calls, with Graph's auth, error shape and paging.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { conversationId, newWamid } from './core.ts'
import type { SimulatorCore } from './core.ts'
import { GraphError, invalidToken, unsupportedRequest } from './graph-errors.ts'
import { paginate, pickFields } from './paging.ts'
import type { PhoneNumber, Template, Waba } from './registry.ts'
import { parseSendRequest, resolveTemplate } from './send-validation.ts'

interface Params {
  version: string
  id: string
}
type Query = Record<string, string | undefined>

function phoneNumberObject(n: PhoneNumber): Record<string, unknown> {
  return {
    id: n.id,
    display_phone_number: n.displayPhoneNumber,
    verified_name: n.verifiedName,
    quality_rating: n.qualityRating,
    code_verification_status: 'VERIFIED',
    platform_type: 'CLOUD_API',
    throughput: { level: n.messagesPerSecond > 80 ? 'HIGH' : 'STANDARD' },
  }
}

function wabaObject(w: Waba): Record<string, unknown> {
  return {
    id: w.id, name: w.numbers[0]?.verifiedName ?? w.id, currency: 'USD', timezone_id: '1',
    owner_business_info: { id: w.businessPortfolioId, name: w.numbers[0]?.verifiedName ?? w.id },
  }
}

function templateObject(t: Template): Record<string, unknown> {
  return { id: t.id, name: t.name, language: t.language, status: t.status, category: t.category, parameter_format: t.parameter_format, components: t.components }
}

/** Bearer header, or the access_token query parameter Graph also accepts. */
function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  const bearer = header && /^Bearer\s+(\S+)$/i.exec(header)?.[1]
  return bearer || (request.query as Query)['access_token']
}

export function graphRoutes(core: SimulatorCore) {
  // Graph checks the token first (190), then whether the id exists for it (100), then that this token may use it.
  function authorize(request: FastifyRequest, method: 'get' | 'post', tokens: (id: string) => string[] | undefined): void {
    const token = tokenOf(request)
    if (token === undefined || !core.registry.isKnownToken(token)) throw invalidToken()
    const { id } = request.params as Params
    const allowed = tokens(id)
    if (allowed === undefined) throw unsupportedRequest(method, id)
    if (!allowed.includes(token)) throw invalidToken()
  }

  const numberTokens = (id: string) => {
    const n = core.registry.number(id)
    return n && [n.accessToken]
  }
  const wabaTokens = (id: string) => core.registry.waba(id)?.numbers.map((n) => n.accessToken)

  function requestUrl(request: FastifyRequest): URL {
    return new URL(request.url, `${request.protocol}://${request.host}`)
  }

  return async function plugin(app: FastifyInstance): Promise<void> {
    app.addHook('onRequest', async (request) => {
      // Routes name their stats().calls key in config.endpoint; the node route counts itself once it knows the node type.
      const { endpoint } = request.routeOptions.config as { endpoint?: string }
      if (endpoint) core.countCall(endpoint)
      if (!/^v\d+\.\d+$/.test((request.params as Partial<Params>).version ?? '')) {
        throw new GraphError(2500, { title: `Unknown path components: ${request.url.split('?')[0]}` })
      }
      if (core.latencyMs > 0) await sleep(core.latencyMs)
    })

    app.setErrorHandler((error: unknown, _request: FastifyRequest, reply: FastifyReply) => {
      const graphError = error instanceof GraphError ? error : asGraphError(error)
      core.countRejection(graphError.code)
      return reply.code(graphError.httpStatus).send(graphError.toBody())
    })

    app.get('/:version/:id', async (request) => {
      const { id } = request.params as Params
      const { fields } = request.query as Query
      const number = core.registry.number(id)
      core.countCall(number ? 'GET /{phone-number-id}' : core.registry.waba(id) ? 'GET /{waba-id}' : 'GET /{unknown-id}')
      if (number) {
        authorize(request, 'get', numberTokens)
        return pickFields(phoneNumberObject(number), fields)
      }
      authorize(request, 'get', wabaTokens)
      return pickFields(wabaObject(core.registry.waba(id) as Waba), fields)
    })

    app.get('/:version/:id/phone_numbers', { config: { endpoint: 'GET /phone_numbers' } }, async (request) => {
      authorize(request, 'get', wabaTokens)
      const { fields, limit, after } = request.query as Query
      const waba = core.registry.waba((request.params as Params).id) as Waba
      const page = paginate(waba.numbers, { limit, after, url: requestUrl(request) })
      return { ...page, data: page.data.map((n) => pickFields(phoneNumberObject(n), fields)) }
    })

    app.get('/:version/:id/message_templates', { config: { endpoint: 'GET /message_templates' } }, async (request) => {
      authorize(request, 'get', wabaTokens)
      const { fields, limit, after, status, name, language } = request.query as Query
      const statuses = status?.toUpperCase().split(',')
      const waba = core.registry.waba((request.params as Params).id) as Waba
      const matching = waba.templates.filter(
        (t) => (!statuses || statuses.includes(t.status)) && (!name || t.name === name) && (!language || t.language === language),
      )
      const page = paginate(matching, { limit, after, url: requestUrl(request) })
      return { ...page, data: page.data.map((t) => pickFields(templateObject(t), fields)) }
    })

    app.post('/:version/:id/messages', { config: { endpoint: 'POST /messages' } }, async (request) => {
      authorize(request, 'post', numberTokens)
      const number = core.registry.number((request.params as Params).id) as PhoneNumber
      const send = parseSendRequest(request.body)
      const waba = core.registry.waba(number.wabaId) as Waba
      const template = send.type === 'template' ? resolveTemplate(waba, send) : undefined
      // Authentication templates need a phone `to` (reference §2.2, §9).
      if (send.userId && template?.category === 'AUTHENTICATION') throw new GraphError(131062)
      if (!core.limits.takeThroughput(number.id, number.messagesPerSecond)) throw new GraphError(130429)
      if (!core.limits.takePair(number.id, send.waId)) throw new GraphError(131056)
      const fault = core.takeFault(send.waId)
      if (fault?.mode === 'sync') throw new GraphError(fault.code)

      const wamid = newWamid(send.waId)
      core.recordAccepted({
        wamid,
        phoneNumberId: number.id,
        to: send.to,
        waId: send.waId,
        ...(send.userId ? { userId: send.userId } : {}),
        type: send.type,
        ...(template ? { templateName: template.name, templateLanguage: template.language } : {}),
        ...(send.bizOpaqueCallbackData === undefined ? {} : { bizOpaqueCallbackData: send.bizOpaqueCallbackData }),
        body: send.body,
        acceptedAt: Date.now(),
      })
      // Free-form text is only allowed inside a customer-service window, which is billed as 'service'.
      const category = template ? template.category.toLowerCase() : 'service'
      core.statusWebhooks.schedule(
        {
          wamid,
          wabaId: number.wabaId,
          phoneNumberId: number.id,
          displayPhoneNumber: number.displayPhoneNumber,
          ...(send.userId ? { recipientUserId: send.userId } : { recipientId: send.waId }),
          ...(send.bizOpaqueCallbackData === undefined ? {} : { bizOpaqueCallbackData: send.bizOpaqueCallbackData }),
          conversationId: conversationId(number, send.waId, category),
          category,
        },
        fault?.code,
      )
      return {
        messaging_product: 'whatsapp',
        // A send by user id is echoed without a wa_id: Meta does not reveal the phone.
        contacts: [send.userId ? { input: send.to } : { input: send.to, wa_id: send.waId }],
        messages: [{ id: wamid, message_status: 'accepted' }],
      }
    })
  }
}

/** Fastify's own errors (bad JSON, wrong content type, …) become Graph's "Invalid parameter"; anything else code 1. */
function asGraphError(error: unknown): GraphError {
  const statusCode = (error as { statusCode?: number }).statusCode
  const message = error instanceof Error ? error.message : String(error)
  if (statusCode !== undefined && statusCode < 500) return new GraphError(100, { details: message })
  return new GraphError(1, { title: 'An unknown error occurred', details: message, httpStatus: 500 })
}
