// The daily API allocation is a rolling 24-hour window; calls are kept in hourly buckets so an
// advanced clock frees capacity the way the real org does.

const HOUR = 3_600_000

export interface ApiUsage {
  buckets: Map<number, number>
}

export function createApiUsage(): ApiUsage {
  return { buckets: new Map() }
}

export function apiUsed(usage: ApiUsage, now: number): number {
  const current = Math.floor(now / HOUR)
  let used = 0
  for (const [hour, count] of usage.buckets) {
    if (hour <= current - 24) usage.buckets.delete(hour)
    else used += count
  }
  return used
}

export function recordApiCall(usage: ApiUsage, now: number): void {
  const hour = Math.floor(now / HOUR)
  usage.buckets.set(hour, (usage.buckets.get(hour) ?? 0) + 1)
}

/** Test control: pretend `used` calls were already made in the current hour. */
export function setApiUsed(usage: ApiUsage, now: number, used: number): void {
  usage.buckets.clear()
  if (used > 0) usage.buckets.set(Math.floor(now / HOUR), used)
}

export function limitInfoHeader(usage: ApiUsage, max: number, now: number): string {
  return `api-usage=${apiUsed(usage, now)}/${max}`
}

/** Body of GET /limits: the daily API allocation plus a few fixed allocations for realism. */
export function limitsBody(usage: ApiUsage, max: number, now: number): Record<string, { Max: number; Remaining: number }> {
  const fixed = (limit: number) => ({ Max: limit, Remaining: limit })
  return {
    ConcurrentAsyncGetReportInstances: fixed(200),
    ConcurrentSyncReportRuns: fixed(20),
    DailyApiRequests: { Max: max, Remaining: Math.max(0, max - apiUsed(usage, now)) },
    DailyAsyncApexExecutions: fixed(250_000),
    DailyBulkApiBatches: fixed(15_000),
    DailyBulkV2QueryFileStorageMB: fixed(976_562),
    DailyBulkV2QueryJobs: fixed(10_000),
    DailyDurableStreamingApiEvents: fixed(1_000_000),
    DailyStreamingApiEvents: fixed(1_000_000),
    DataStorageMB: fixed(1024),
    HourlyAsyncReportRuns: fixed(1200),
    HourlySyncReportRuns: fixed(500),
    SingleEmail: fixed(5000),
  }
}
