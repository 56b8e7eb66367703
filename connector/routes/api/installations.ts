import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError, notFound } from '../../errors.ts'
import type { InstallService } from '../../installations/install-service.ts'
import { findInstallation, listInstallations, publicInstallation } from '../../installations/installation-repository.ts'
import { ErrorResponses, IdParams } from '../../schemas/common.ts'
import { InstallationList, SegmentSourceList, SourcesQuery, UninstallResult } from '../../schemas/installations.ts'
import type { RouteOptions } from '../../services.ts'
import { crmFailure } from './crm-failure.ts'

export const installationRoutes: FastifyPluginAsyncTypebox<RouteOptions & { install: InstallService }> = async (app, { services, install }) => {
  app.get('/installations', {
    schema: { tags: ['installs'], summary: 'Installed CRM accounts (never their tokens)', response: { 200: InstallationList, ...ErrorResponses } },
  }, async () => (await listInstallations(services.db)).map(publicInstallation))

  app.get('/installations/:id/sources', {
    schema: {
      tags: ['installs'],
      summary: 'The CRM\'s own lists, campaigns, list views and reports a segment can be made from',
      params: IdParams,
      querystring: SourcesQuery,
      response: { 200: SegmentSourceList, ...ErrorResponses },
    },
  }, async (request) => {
    const { id } = request.params
    const { type, q } = request.query
    const installation = await findInstallation(services.db, id)
    if (!installation) throw notFound('Installation', id)
    if (installation.status !== 'active') throw new AppError(422, 'INSTALLATION_INACTIVE', `Installation ${id} is ${installation.status}; reinstall the app first`)
    const provider = services.providers.get(installation.crm)
    if (type && !provider.sourceTypes.includes(type)) throw new AppError(400, 'SOURCE_CRM_MISMATCH', `${provider.label} has no ${type} sources; it has ${provider.sourceTypes.join(', ')}`)
    const sources = await services.crm.for(installation).listSegmentSources(q).catch((error: unknown) => { throw crmFailure(error, provider.label) })
    return type ? sources.filter((s) => s.type === type) : sources
  })

  app.delete('/installations/:id', {
    schema: {
      tags: ['installs'],
      summary: 'Uninstall: revoke the tokens at the CRM, erase them here, stop the installation\'s work; the audit trail stays',
      params: IdParams,
      response: { 200: UninstallResult, ...ErrorResponses },
    },
  }, async (request) => {
    const { id } = request.params
    const result = await install.uninstall(id)
    if (!result) throw notFound('Installation', id)
    return { installation: publicInstallation(result.installation), revoked: result.revoked }
  })
}
