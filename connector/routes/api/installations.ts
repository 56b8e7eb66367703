import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { notFound } from '../../errors.ts'
import type { InstallService } from '../../installations/install-service.ts'
import { listInstallations, publicInstallation } from '../../installations/installation-repository.ts'
import type { RouteOptions } from '../../services.ts'

const InstallationView = Type.Object({
  id: Type.String(),
  crm: Type.Union([Type.Literal('hubspot'), Type.Literal('salesforce')]),
  accountId: Type.String(),
  accountName: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('needs_reauth'), Type.Literal('uninstalled')]),
  scopes: Type.Array(Type.String()),
  missingScopes: Type.Array(Type.String()),
  instanceUrl: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  installedAt: Type.String(),
  updatedAt: Type.String(),
  uninstalledAt: Type.Union([Type.String(), Type.Null()]),
})

export const installationRoutes: FastifyPluginAsync<RouteOptions & { install: InstallService }> = async (app, { services, install }) => {
  app.get('/installations', {
    schema: { tags: ['installs'], summary: 'Installed CRM accounts (never their tokens)', response: { 200: Type.Array(InstallationView) } },
  }, async () => (await listInstallations(services.db)).map(publicInstallation))

  app.delete('/installations/:id', {
    schema: {
      tags: ['installs'],
      summary: 'Uninstall: revoke the tokens at the CRM, erase them here, stop the installation\'s work; the audit trail stays',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: Type.Object({ installation: InstallationView, revoked: Type.Boolean() }) },
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const result = await install.uninstall(id)
    if (!result) throw notFound('Installation', id)
    return { installation: publicInstallation(result.installation), revoked: result.revoked }
  })
}
