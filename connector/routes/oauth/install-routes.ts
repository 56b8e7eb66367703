import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import type { CrmProvider } from '../../../crm-adapters/crm-provider.ts'
import type { CrmProviders } from '../../../crm-adapters/registry.ts'
import { CrmNotConfiguredError, type InstallResult, type InstallService } from '../../installations/install-service.ts'
import { OAuthStateError } from '../../installations/oauth-state.ts'
import { INSTALL_STARTS_PER_MINUTE } from '../../plugins/rate-limits.ts'
import { CallbackQuery, crmParams, InstallQuery } from '../../schemas/oauth.ts'
import { page } from './pages.ts'

// GET /oauth/:crm/install redirects to the CRM's consent screen; GET /oauth/:crm/callback
// completes the install and shows a page. A bad state or failed exchange stores nothing.

// The error codes an authorization server may answer with (RFC 6749 §4.1.2.1), in words. Any other
// code, and every error_description, is the CRM's (or anyone's) text and is not shown.
const OAUTH_ERRORS: Record<string, string> = {
  access_denied: 'access was not granted',
  invalid_request: 'the request was not accepted',
  unauthorized_client: 'this app may not be installed this way',
  unsupported_response_type: 'the request was not accepted',
  invalid_scope: 'the permissions the app asks for were refused',
  server_error: 'the CRM had an error',
  temporarily_unavailable: 'the CRM is unavailable for a moment',
}

function cannotUse(reply: FastifyReply, status: number, line: string) {
  return page(reply, status, 'This install link cannot be used', [line])
}

function failure(reply: FastifyReply, provider: CrmProvider, error: unknown) {
  const name = provider.label
  if (error instanceof OAuthStateError) return page(reply, 400, 'This install link cannot be used', [error.message, `Start again from the ${name} install button.`])
  // Nothing to install into here: that CRM is not offered by this deployment.
  if (error instanceof CrmNotConfiguredError) return page(reply, 404, `${name} is not set up on this connector`, [error.message])
  if (error instanceof CrmError) {
    if (error.code === 'INVALID_GRANT') return page(reply, 400, `${name} did not accept the authorisation`, ['The authorisation code was refused (it may have expired or been used). Start the install again.'])
    return page(reply, 502, `${name} could not complete the install`, [`${name} answered with an error (${error.platformCode ?? error.code}). Nothing was stored; try again in a moment.`])
  }
  if (error instanceof Error && /fetch failed|ECONN|timeout|aborted/i.test(error.message)) {
    return page(reply, 502, `${name} could not be reached`, ['Nothing was stored; try again in a moment.'])
  }
  throw error
}

function success(reply: FastifyReply, provider: CrmProvider, { installation: i, provisioning }: InstallResult) {
  const lines = [`${provider.label} account ${i.accountId}${i.accountName ? ` (${i.accountName})` : ''} is connected.`]
  if (i.missingScopes.length) lines.push(`These permissions were not granted, and the features that need them stay off until you reinstall and grant them: ${i.missingScopes.join(', ')}.`)
  if (!provisioning.ok) {
    lines.push(`Setting up ${provider.label} for the app did not complete: ${provisioning.summary}. Until it does, WhatsApp consent cannot be written back to ${provider.label}; installing again retries it.`)
  } else if (provisioning.outcome.created.length) {
    lines.push(`Created in ${provider.label} for the app: ${provisioning.outcome.created.map((n) => n.replace(/^group:/, 'property group ')).join(', ')}.`)
  }
  lines.push('You can close this page.')
  return page(reply, 200, 'WhatsApp Lists is installed', lines)
}

export const installRoutes: FastifyPluginAsyncTypebox<{ install: InstallService; providers: CrmProviders }> = async (app, { install, providers }) => {
  const CrmParams = crmParams(providers.all().map((p) => p.kind))

  app.get('/oauth/:crm/install', {
    // Each start writes an OAuth state: bounded per client address.
    config: { rateLimit: { max: INSTALL_STARTS_PER_MINUTE, timeWindow: 60_000 } },
    schema: { tags: ['install'], summary: 'Start an install (redirects to the CRM\'s consent screen)', params: CrmParams, querystring: InstallQuery },
    // People see these answers in a browser: a bad request is a page too.
    attachValidation: true,
  }, async (request, reply) => {
    const provider = providers.find(request.params.crm)
    if (!provider) return page(reply, 404, 'There is no such CRM here', [`This connector installs into ${providers.all().map((p) => p.label).join(' and ')}.`])
    if (request.validationError) return cannotUse(reply, 400, 'The install request is malformed. Start again from the install button.')
    try {
      return reply.redirect(await install.begin(provider.kind, request.query.login), 302)
    } catch (error) {
      if (error instanceof CrmError && error.code === 'VALIDATION_ERROR') return page(reply, 400, 'That login host cannot be used', [error.message])
      return failure(reply, provider, error)
    }
  })

  app.get('/oauth/:crm/callback', {
    schema: { tags: ['install'], summary: 'OAuth callback: completes the install', params: CrmParams, querystring: CallbackQuery },
    attachValidation: true,
  }, async (request, reply) => {
    const provider = providers.find(request.params.crm)
    if (!provider) return page(reply, 404, 'There is no such CRM here', [`This connector installs into ${providers.all().map((p) => p.label).join(' and ')}.`])
    if (request.validationError) return cannotUse(reply, 400, `The response from ${provider.label} is malformed. Nothing was stored; start the install again.`)
    const q = request.query
    if (q.error) {
      const said = OAUTH_ERRORS[q.error]
      return page(reply, 400, 'The install was cancelled', [`${provider.label} ended the install${said ? `: ${said} (${q.error})` : ' with an error'}. Nothing was stored.`])
    }
    if (!q.code) return cannotUse(reply, 400, `The response from ${provider.label} carries no authorisation code.`)
    try {
      return success(reply, provider, await install.complete(provider.kind, q.code, q.state))
    } catch (error) {
      return failure(reply, provider, error)
    }
  })
}
