import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { notFound } from '../../errors.ts'
import type { InstallService } from '../../installations/install-service.ts'
import { listInstallations, publicInstallation } from '../../installations/installation-repository.ts'
import { ErrorResponses, IdParams } from '../../schemas/common.ts'
import { InstallationList, UninstallResult } from '../../schemas/installations.ts'
import type { RouteOptions } from '../../services.ts'

export const installationRoutes: FastifyPluginAsyncTypebox<RouteOptions & { install: InstallService }> = async (app, { services, install }) => {
  app.get('/installations', {
    schema: { tags: ['installs'], summary: 'Installed CRM accounts (never their tokens)', response: { 200: InstallationList, ...ErrorResponses } },
  }, async () => (await listInstallations(services.db)).map(publicInstallation))

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
