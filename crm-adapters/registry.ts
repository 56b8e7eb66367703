import type { CrmKind, SegmentSourceType } from './crm-adapter.ts'
import type { CrmProvider } from './crm-provider.ts'
import { hubspotProvider, type HubSpotProviderOptions } from './hubspot/index.ts'
import { salesforceProvider, type SalesforceProviderOptions } from './salesforce/index.ts'

// Kind → provider: the only place that names every CRM. The connector finds a CRM's install flow,
// signature check, adapters and source types here and nowhere else.

export interface ProviderOptions {
  hubspot: HubSpotProviderOptions
  salesforce: SalesforceProviderOptions
}

export class CrmProviders {
  readonly #byKind: ReadonlyMap<CrmKind, CrmProvider>

  constructor(providers: CrmProvider[]) {
    this.#byKind = new Map(providers.map((p) => [p.kind, p]))
  }

  static create(options: ProviderOptions): CrmProviders {
    return new CrmProviders([hubspotProvider(options.hubspot), salesforceProvider(options.salesforce)])
  }

  get(kind: CrmKind): CrmProvider {
    const provider = this.#byKind.get(kind)
    if (!provider) throw new Error(`no CRM provider for ${kind}`)
    return provider
  }

  /** The provider whose kind is this name, for routes that take the CRM from the URL. */
  find(name: string): CrmProvider | undefined {
    return this.#byKind.get(name as CrmKind)
  }

  /** The provider serving a segment source type. */
  forSourceType(type: SegmentSourceType): CrmProvider | undefined {
    return this.all().find((p) => p.sourceTypes.includes(type))
  }

  all(): CrmProvider[] {
    return [...this.#byKind.values()]
  }
}
