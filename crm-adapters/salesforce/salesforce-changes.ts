import type { ChangePage, CrmRecord } from '../crm-adapter.ts'
import { validationError } from './salesforce-errors.ts'
import { query, queryMore, type QueryPage, type SoqlRow } from './salesforce-query.ts'
import { toCrmRecord } from './salesforce-records.ts'
import type { SalesforceRest } from './salesforce-rest.ts'
import { isoFromSalesforce, soqlDateTime, uniqueFields, type PersonType } from './salesforce-soql.ts'

// People changed after a high-water mark (an ISO time): one SOQL query on Contact and one on Lead,
// each `WHERE SystemModstamp > mark ORDER BY SystemModstamp, Id` and paged by nextRecordsUrl.
// The two are merged by SystemModstamp so that each page's mark has every Contact and Lead up to it
// behind it: resuming from any page's nextCursor skips nothing (it may repeat a few records, since
// the query's mark is rounded down to whole seconds).

interface Pending {
  stamp: number
  record: CrmRecord
}

interface Stream {
  type: PersonType
  pending: Pending[]
  /** Reads the next batch; undefined once the query is exhausted. */
  next: (() => Promise<QueryPage>) | undefined
}

const PERSON_TYPES: PersonType[] = ['Contact', 'Lead']

export async function* readChanges(rest: SalesforceRest, cursor: string | undefined, properties: string[]): AsyncGenerator<ChangePage> {
  if (cursor === undefined) {
    yield { records: [], nextCursor: new Date().toISOString(), calls: 0 }
    return
  }
  const since = new Date(cursor)
  if (Number.isNaN(since.getTime())) throw validationError(`Change cursor "${cursor.slice(0, 40)}" is not an ISO time`)
  const props = uniqueFields(properties)
  const select = uniqueFields(['Id', 'SystemModstamp', ...props]).join(', ')
  const streams: Stream[] = PERSON_TYPES.map((type) => ({
    type,
    pending: [],
    next: () => query(rest, `SELECT ${select} FROM ${type} WHERE SystemModstamp > ${soqlDateTime(since)} ORDER BY SystemModstamp, Id`, 'background'),
  }))
  let mark = since.toISOString()
  let calls = 0
  let yielded = false

  const read = async (stream: Stream, next: () => Promise<QueryPage>) => {
    const page = await next()
    calls += 1
    for (const row of page.records as SoqlRow[]) {
      stream.pending.push({ stamp: Date.parse(isoFromSalesforce(String(row.SystemModstamp))), record: toCrmRecord(String(row.Id), stream.type, row, props) })
    }
    const url = !page.done && page.nextRecordsUrl ? page.nextRecordsUrl : undefined
    stream.next = url ? () => queryMore(rest, url, 'background') : undefined
  }

  for (;;) {
    for (const s of streams) if (s.next && s.pending.length === 0) await read(s, s.next)
    // A stream still open can only return stamps at or after its last pending one, so everything
    // older than the smallest of those is complete in both objects.
    const open = streams.filter((s) => s.next)
    const bound = Math.min(...open.map((s) => s.pending.at(-1)?.stamp ?? Number.NEGATIVE_INFINITY))
    const ready: Pending[] = []
    for (const s of streams) {
      ready.push(...s.pending.filter((p) => p.stamp < bound))
      s.pending = s.pending.filter((p) => p.stamp >= bound)
    }
    if (ready.length === 0) {
      if (open.length === 0) break
      // Every pending record sits at the bound: read on there until a later stamp shows up.
      for (const s of open) if (s.next && s.pending.at(-1)?.stamp === bound) await read(s, s.next)
      continue
    }
    ready.sort((a, b) => a.stamp - b.stamp || (a.record.id < b.record.id ? -1 : 1))
    mark = new Date((ready.at(-1) as Pending).stamp).toISOString()
    yield { records: ready.map((p) => p.record), nextCursor: mark, calls }
    calls = 0
    yielded = true
  }
  if (!yielded || calls > 0) yield { records: [], nextCursor: mark, calls }
}
