import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { Type } from '@sinclair/typebox'
import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import { CrmNotConfiguredError, type InstallService } from '../../installations/install-service.ts'
import type { Installation } from '../../installations/installation-repository.ts'
import { OAuthStateError } from '../../installations/oauth-state.ts'
import { page } from './pages.ts'

// GET /oauth/{crm}/install redirects to the CRM's consent screen; GET /oauth/{crm}/callback
// completes the install and shows a page. A bad state or failed exchange stores nothing.

const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 2048 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  error: Type.Optional(Type.String({ maxLength: 200 })),
  error_description: Type.Optional(Type.String({ maxLength: 2000 })),
})
type Callback = typeof CallbackQuery.static

const LABEL = { hubspot: 'HubSpot', salesforce: 'Salesforce' } as const

function failure(reply: FastifyReply, crm: 'hubspot' | 'salesforce', error: unknown) {
  const name = LABEL[crm]
  if (error instanceof OAuthStateError) return page(reply, 400, 'This install link cannot be used', [error.message, `Start again from the ${name} install button.`])
  if (error instanceof CrmNotConfiguredError) return page(reply, 503, `${name} is not set up on this connector`, [error.message])
  if (error instanceof CrmError) {
    if (error.code === 'INVALID_GRANT') return page(reply, 400, `${name} did not accept the authorisation`, ['The authorisation code was refused (it may have expired or been used). Start the install again.'])
    return page(reply, 502, `${name} could not complete the install`, [`${name} answered with an error (${error.platformCode ?? error.code}). Nothing was stored; try again in a moment.`])
  }
  if (error instanceof Error && /fetch failed|ECONN|timeout|aborted/i.test(error.message)) {
    return page(reply, 502, `${name} could not be reached`, ['Nothing was stored; try again in a moment.'])
  }
  throw error
}

function success(reply: FastifyReply, i: Installation) {
  const lines = [`${LABEL[i.crm]} account ${i.accountId}${i.accountName ? ` (${i.accountName})` : ''} is connected.`]
  if (i.missingScopes.length) lines.push(`These permissions were not granted, and the features that need them stay off until you reinstall and grant them: ${i.missingScopes.join(', ')}.`)
  lines.push('You can close this page.')
  return page(reply, 200, 'WhatsApp Lists is installed', lines)
}

export const installRoutes: FastifyPluginAsync<{ install: InstallService }> = async (app, { install }) => {
  app.get('/oauth/hubspot/install', { schema: { tags: ['install'], summary: 'Start a HubSpot install (redirects to HubSpot)' } }, async (_request, reply) => {
    try {
      return reply.redirect(await install.beginHubSpot(), 302)
    } catch (error) {
      return failure(reply, 'hubspot', error)
    }
  })

  app.get('/oauth/hubspot/callback', { schema: { tags: ['install'], summary: 'HubSpot OAuth callback', querystring: CallbackQuery } }, async (request, reply) => {
    const q = request.query as Callback
    if (q.error) return page(reply, 400, 'The install was cancelled', [`HubSpot said: ${q.error_description ?? q.error}. Nothing was stored.`])
    if (!q.code) return page(reply, 400, 'This install link cannot be used', ['The response from HubSpot carries no authorisation code.'])
    try {
      return success(reply, await install.completeHubSpot(q.code, q.state))
    } catch (error) {
      return failure(reply, 'hubspot', error)
    }
  })

  app.get('/oauth/salesforce/install', {
    schema: {
      tags: ['install'],
      summary: 'Start a Salesforce install (redirects to the login host)',
      querystring: Type.Object({ login: Type.Optional(Type.String({ maxLength: 300, description: 'production, sandbox, or https://<my-domain>.my.salesforce.com' })) }),
    },
  }, async (request, reply) => {
    try {
      return reply.redirect(await install.beginSalesforce((request.query as { login?: string }).login), 302)
    } catch (error) {
      if (error instanceof CrmError && error.code === 'VALIDATION_ERROR') return page(reply, 400, 'That login host cannot be used', [error.message])
      return failure(reply, 'salesforce', error)
    }
  })

  app.get('/oauth/salesforce/callback', { schema: { tags: ['install'], summary: 'Salesforce OAuth callback', querystring: CallbackQuery } }, async (request, reply) => {
    const q = request.query as Callback
    if (q.error) return page(reply, 400, 'The install was cancelled', [`Salesforce said: ${q.error_description ?? q.error}. Nothing was stored.`])
    if (!q.code) return page(reply, 400, 'This install link cannot be used', ['The response from Salesforce carries no authorisation code.'])
    try {
      return success(reply, await install.completeSalesforce(q.code, q.state))
    } catch (error) {
      return failure(reply, 'salesforce', error)
    }
  })
}
