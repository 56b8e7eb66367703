// Reading contacts: batch read by id (100 per call) and the "changed since" feed over CRM search.
// Reference hubspot.md §4 (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm).
import { CrmError, type ChangePage, type CrmRecord } from '../crm-adapter.ts'
import type { HubSpotHttp } from './hubspot-http.ts'
import { asArray, asRecord, asString, chunks, parseTime } from './json.ts'

/** Batch read limit (reference §4: "limited to 100 records"). */
export const BATCH_READ_MAX = 100
/** Search page size: 100 is the documented maximum in the stored sources (reference §4). */
const SEARCH_PAGE = 100
/** Search never pages past 10,000 results; the query is re-anchored instead (reference §4). */
const SEARCH_RESULT_CAP = 10_000
const MODIFIED = 'lastmodifieddate'

/**
 * Contacts by id with only `properties`, in the order asked. Ids HubSpot cannot return (deleted,
 * merged away) are left out: batch read answers 207 with an OBJECT_NOT_FOUND error for them.
 */
export async function readContacts(http: HubSpotHttp, ids: readonly string[], properties: readonly string[]): Promise<{ records: CrmRecord[]; calls: number }> {
  const unique = [...new Set(ids)]
  const pages = await Promise.all(
    chunks(unique, BATCH_READ_MAX).map((batch) =>
      http.request(http.endpoint('POST', 'objects', '/contacts/batch/read'), { body: { inputs: batch.map((id) => ({ id })), properties } }),
    ),
  )
  const byId = new Map<string, CrmRecord>()
  for (const page of pages) {
    for (const raw of asArray(asRecord(page.body).results)) {
      const record = toRecord(raw, properties)
      if (record) byId.set(record.id, record)
    }
  }
  return { records: unique.flatMap((id) => byId.get(id) ?? []), calls: pages.reduce((sum, p) => sum + p.calls, 0) }
}

/**
 * Contacts modified after `sinceMs`, oldest first, one search page at a time. Every page
 * re-anchors the filter at the newest `lastmodifieddate` seen (GTE, skipping what was already
 * returned at that instant), so neither the 10,000-result cap nor records moving while we page
 * can make it skip anything. With one sort key, contacts modified in the same millisecond are
 * stepped over by offset. `nextCursor` is the high-water mark as ISO time.
 */
export async function* changedContacts(http: HubSpotHttp, sinceMs: number, properties: readonly string[]): AsyncGenerator<ChangePage> {
  let anchor = sinceMs
  let inclusive = false
  let seenAtAnchor = new Set<string>()
  for (;;) {
    const offset = inclusive ? seenAtAnchor.size : 0
    if (offset >= SEARCH_RESULT_CAP) {
      throw new CrmError({ crm: 'hubspot', code: 'UNKNOWN', message: `More than ${SEARCH_RESULT_CAP} contacts share lastmodifieddate ${new Date(anchor).toISOString()}; search cannot page past them` })
    }
    const page = await http.request(http.endpoint('POST', 'objects', '/contacts/search'), {
      search: true,
      body: {
        filterGroups: [{ filters: [{ propertyName: MODIFIED, operator: inclusive ? 'GTE' : 'GT', value: String(anchor) }] }],
        sorts: [{ propertyName: MODIFIED, direction: 'ASCENDING' }],
        properties: [...new Set([...properties, MODIFIED])],
        limit: SEARCH_PAGE,
        ...(offset > 0 ? { after: String(offset) } : {}),
      },
    })
    const body = asRecord(page.body)
    const rows = asArray(body.results).flatMap((raw) => {
      const record = toRecord(raw, properties)
      const modified = parseTime(asString(asRecord(asRecord(raw).properties)[MODIFIED]) ?? record?.updatedAt)
      return record && Number.isFinite(modified) ? [{ record, modified }] : []
    })
    const fresh = rows.filter((r) => !(inclusive && r.modified === anchor && seenAtAnchor.has(r.record.id)))
    const last = rows.at(-1)
    if (last && last.modified > anchor) {
      anchor = last.modified
      inclusive = true
      seenAtAnchor = new Set()
    }
    for (const r of rows) if (r.modified === anchor) seenAtAnchor.add(r.record.id)
    yield { records: fresh.map((r) => r.record), nextCursor: new Date(anchor).toISOString(), calls: page.calls }
    if (!asRecord(asRecord(body.paging).next).after) return
  }
}

/** A HubSpot SimplePublicObject as a CrmRecord holding only the requested properties. */
function toRecord(raw: unknown, properties: readonly string[]): CrmRecord | undefined {
  const object = asRecord(raw)
  const id = asString(object.id)
  if (!id) return undefined
  const values = asRecord(object.properties)
  const updatedAt = asString(object.updatedAt) ?? asString(values[MODIFIED])
  return {
    id,
    objectType: 'contact',
    properties: Object.fromEntries(properties.map((name) => [name, asString(values[name]) ?? null])),
    ...(updatedAt === undefined ? {} : { updatedAt }),
  }
}
