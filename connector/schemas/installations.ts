import { Type } from '@sinclair/typebox'
import { SEGMENT_SOURCE_TYPES } from '../../crm-adapters/crm-adapter.ts'
import { literalUnion } from './common.ts'

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

/** The CRM's own lists a segment can be made from. */
export const SourcesQuery = Type.Object({
  type: Type.Optional(literalUnion(SEGMENT_SOURCE_TYPES, { description: 'Only sources of this type' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Names containing this' })),
})

export const SegmentSourceView = Type.Object({
  type: literalUnion(SEGMENT_SOURCE_TYPES),
  id: Type.String(),
  name: Type.String(),
  size: Type.Optional(Type.Integer()),
  objectType: Type.Optional(Type.String()),
  processingType: Type.Optional(Type.String()),
})

export const SegmentSourceList = Type.Array(SegmentSourceView)
