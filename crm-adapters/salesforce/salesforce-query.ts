import { CrmError } from '../crm-adapter.ts'
import { validationError } from './salesforce-errors.ts'
import type { Priority, SalesforceRest } from './salesforce-rest.ts'

// SOQL over REST: `GET /query?q=` answers up to 2,000 records and, when more match, a
// `nextRecordsUrl` (`/services/data/vNN.N/query/01g…-2000`) for the next batch
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm).
// That URL names a server-side query locator: it expires after about 15 minutes unused, and a
// user keeps at most 10 open (opening another drops the oldest), so a stored one can go stale.

export type SoqlRow = Record<string, unknown> & { attributes?: { type?: string } }

export interface QueryPage<R = SoqlRow> {
  totalSize: number
  done: boolean
  nextRecordsUrl?: string
  records: R[]
}

const LOCATOR = /^\/services\/data\/v\d+\.\d+\/query(?:All)?\/[A-Za-z0-9-]+$/

export function query<R = SoqlRow>(rest: SalesforceRest, soql: string, priority: Priority): Promise<QueryPage<R>> {
  return rest.request<QueryPage<R>>({ endpoint: 'query', path: `/query?q=${encodeURIComponent(soql)}`, priority })
}

/** The batch after `nextRecordsUrl`; an expired locator becomes a VALIDATION_ERROR that says to start over. */
export async function queryMore<R = SoqlRow>(rest: SalesforceRest, nextRecordsUrl: string, priority: Priority): Promise<QueryPage<R>> {
  if (!LOCATOR.test(nextRecordsUrl)) throw validationError('The cursor is not a Salesforce query locator (nextRecordsUrl)')
  try {
    return await rest.request<QueryPage<R>>({ endpoint: 'queryMore', path: nextRecordsUrl, priority })
  } catch (error) {
    if (error instanceof CrmError && error.platformCode === 'INVALID_QUERY_LOCATOR') {
      throw validationError(
        'The Salesforce query locator behind this cursor has expired (they last about 15 minutes unused, 10 per user): read the source again from the start',
        'INVALID_QUERY_LOCATOR',
      )
    }
    throw error
  }
}

/** Every record of a query, following nextRecordsUrl; `calls` counts the requests it took. */
export async function queryAll<R = SoqlRow>(rest: SalesforceRest, soql: string, priority: Priority): Promise<{ records: R[]; calls: number }> {
  let page = await query<R>(rest, soql, priority)
  const records = [...page.records]
  let calls = 1
  while (!page.done && page.nextRecordsUrl) {
    page = await queryMore<R>(rest, page.nextRecordsUrl, priority)
    records.push(...page.records)
    calls += 1
  }
  return { records, calls }
}
