import { Type } from '@sinclair/typebox'
import type { CrmKind } from '../../crm-adapters/crm-adapter.ts'
import { literalUnion } from './common.ts'

// The install flow answers with HTML pages, so these routes have no response schemas.

/** The CRMs this connector has providers for: the registry decides, so it is built at registration. */
export const crmParams = (kinds: readonly CrmKind[]) => Type.Object({ crm: literalUnion(kinds, { description: 'the CRM' }) })

/** An install link may carry what a listing or campaign adds to it (utm_source, …). */
export const InstallQuery = Type.Object({
  login: Type.Optional(Type.String({ maxLength: 300, description: 'Salesforce: production, sandbox, or https://<my-domain>.my.salesforce.com' })),
}, { additionalProperties: true })

/** The CRM's redirect; it may add parameters of its own (Salesforce: sfdc_community_url, …). */
export const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 2048 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  error: Type.Optional(Type.String({ maxLength: 200 })),
  error_description: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: true })
