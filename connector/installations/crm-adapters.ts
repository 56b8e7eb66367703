import type { CrmAdapter } from '../../crm-adapters/crm-adapter.ts'
import type { CrmProviders } from '../../crm-adapters/registry.ts'
import type { Database } from '../db/database.ts'
import type { Metrics } from '../observability/metrics.ts'
import { messageActivityStore } from './message-activity-store.ts'
import type { Installation } from './installation-repository.ts'
import type { TokenManager } from './token-manager.ts'

// The CrmAdapter of an installation, from its CRM's provider: its tokens from the TokenManager,
// its calls counted in metrics.

export class CrmAdapters {
  readonly #d: { db: Database; tokens: TokenManager; providers: CrmProviders; metrics: Metrics }
  // One adapter per installation: Salesforce's daily-limit guard keeps its usage reading there.
  readonly #adapters = new Map<string, { key: string; adapter: CrmAdapter }>()
  /** Latest Sforce-Limit-Info per installation, for display and metrics. */
  readonly apiUsage = new Map<string, { used: number; max: number }>()

  constructor(deps: { db: Database; tokens: TokenManager; providers: CrmProviders; metrics: Metrics }) {
    this.#d = deps
  }

  for(installation: Installation): CrmAdapter {
    const key = `${installation.crm}:${installation.instanceUrl ?? ''}`
    const cached = this.#adapters.get(installation.id)
    if (cached?.key === key) return cached.adapter
    const { db, tokens, providers, metrics } = this.#d
    const adapter = providers.get(installation.crm).createAdapter({
      installationId: installation.id,
      accountId: installation.accountId,
      instanceUrl: installation.instanceUrl,
      tokens: tokens.sourceFor(installation.id),
      activities: messageActivityStore(db, installation.id),
      observer: {
        onCall: ({ crm, endpoint, status }) => metrics.crmCalls.inc({ crm, endpoint, status: String(status) }),
        onApiUsage: (usage) => this.apiUsage.set(installation.id, usage),
      },
    })
    this.#adapters.set(installation.id, { key, adapter })
    return adapter
  }
}
