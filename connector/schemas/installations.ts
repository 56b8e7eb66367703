import { Type } from '@sinclair/typebox'

/** An installed CRM account as the API shows it: never its tokens. */
export const InstallationView = Type.Object({
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

export const InstallationList = Type.Array(InstallationView)

export const UninstallResult = Type.Object({ installation: InstallationView, revoked: Type.Boolean() })
