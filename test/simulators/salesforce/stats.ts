import type { EndpointName } from './endpoints.ts'
import type { Org } from './state.ts'

// Call counters: every request the simulator receives, per endpoint, globally and per org.

export interface SimStats {
  total: number
  byEndpoint: Partial<Record<EndpointName, number>>
}

export function createStats(): SimStats {
  return { total: 0, byEndpoint: {} }
}

export function countCall(stats: SimStats, endpoint: EndpointName, org: Org | undefined): void {
  stats.total += 1
  stats.byEndpoint[endpoint] = (stats.byEndpoint[endpoint] ?? 0) + 1
  if (org) {
    org.stats.calls += 1
    org.stats.byEndpoint[endpoint] = (org.stats.byEndpoint[endpoint] ?? 0) + 1
  }
}
