import type { CrmAdapter, CrmCallObserver } from '../../crm-adapters/crm-adapter.ts'
import { HubSpotAdapter } from '../../crm-adapters/hubspot/hubspot-adapter.ts'
import { HubSpotRateLimiter } from '../../crm-adapters/hubspot/rate-limiter.ts'
import { SalesforceAdapter } from '../../crm-adapters/salesforce/salesforce-adapter.ts'
import type { Config } from '../config.ts'
import type { Database } from '../db/database.ts'
import { hubspotConsentProperty } from '../manifest/manifest.ts'
import type { Metrics } from '../observability/metrics.ts'
import { communicationStore } from './communication-store.ts'
import type { Installation } from './installation-repository.ts'
import type { TokenManager } from './token-manager.ts'

// Builds the CrmAdapter of an installation: its tokens from the TokenManager, its calls counted
// in metrics, and one rate limiter per HubSpot portal shared by every adapter of that portal.

export class CrmAdapters {
  readonly #d: { db: Database; tokens: TokenManager; config: Config; metrics: Metrics }
  readonly #limiters = new Map<string, HubSpotRateLimiter>()
  // One adapter per installation: Salesforce's daily-limit guard keeps its usage reading there.
  readonly #adapters = new Map<string, { key: string; adapter: CrmAdapter }>()
  /** Latest Sforce-Limit-Info per installation, for display and metrics. */
  readonly apiUsage = new Map<string, { used: number; max: number }>()

  constructor(deps: { db: Database; tokens: TokenManager; config: Config; metrics: Metrics }) {
    this.#d = deps
  }

  for(installation: Installation): CrmAdapter {
    const key = `${installation.crm}:${installation.instanceUrl ?? ''}`
    const cached = this.#adapters.get(installation.id)
    if (cached?.key === key) return cached.adapter
    const adapter = this.#build(installation)
    this.#adapters.set(installation.id, { key, adapter })
    return adapter
  }

  #build(installation: Installation): CrmAdapter {
    const { config, metrics, tokens, db } = this.#d
    const observer: CrmCallObserver = {
      onCall: ({ crm, endpoint, status }) => metrics.crmCalls.inc({ crm, endpoint, status: String(status) }),
      onApiUsage: (usage) => this.apiUsage.set(installation.id, usage),
    }
    const source = tokens.sourceFor(installation.id)
    if (installation.crm === 'hubspot') {
      let limiter = this.#limiters.get(installation.accountId)
      if (!limiter) {
        limiter = new HubSpotRateLimiter(config.hubspot.rateLimit ? { burst: config.hubspot.rateLimit } : {})
        this.#limiters.set(installation.accountId, limiter)
      }
      return new HubSpotAdapter({
        apiBase: config.hubspot.apiBase,
        tokens: source,
        communications: communicationStore(db, installation.id),
        observer,
        rateLimit: limiter,
        consentProperty: hubspotConsentProperty(),
      })
    }
    return new SalesforceAdapter({
      instanceUrl: installation.instanceUrl!,
      tokens: source,
      observer,
      namespace: config.salesforce.namespace,
      dailyLimitGuard: config.salesforce.dailyLimitFraction,
    })
  }
}
