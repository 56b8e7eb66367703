import { CrmError, type ConsentWrite, type EngagementEvent, type WriteResult } from '../crm-adapter.ts'
import { recordError, validationError, type RecordErrorItem } from './salesforce-errors.ts'
import { queryAll, type SoqlRow } from './salesforce-query.ts'
import type { SalesforceRest } from './salesforce-rest.ts'
import { chunks, inLists, personType, personTypeOfId, type PackageFields } from './salesforce-soql.ts'
import { mergeFacts, parseDescription, taskRecord } from './salesforce-task.ts'

// Writes through sObject Collections: up to 200 records per request, one API call, per-record
// results in request order, allOrNone false so one bad record does not hold back the others
// (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html).
// A request that fails as a whole throws: every write here is idempotent, so retrying is safe.

export const COLLECTION_MAX = 200
/** The external id field is Text(255). */
const MESSAGE_ID_MAX = 255

interface CollectionResult {
  id?: string
  success: boolean
  errors?: RecordErrorItem[]
}

function outcome(id: string, result: CollectionResult | undefined): WriteResult {
  if (result?.success) return { id, ok: true }
  if (!result) return { id, ok: false, error: new CrmError({ crm: 'salesforce', code: 'UNKNOWN', message: 'Salesforce returned no result for this record' }) }
  return { id, ok: false, error: recordError(result.errors) }
}

function badRecordId(id: string, objectType: 'contact' | 'lead'): CrmError | undefined {
  return personTypeOfId(id) === personType(objectType) ? undefined : validationError(`"${id.slice(0, 40)}" is not a Salesforce ${personType(objectType)} id`)
}

/** Sets the opt-in checkbox and the date it was set (both ways: the date of the latest consent decision). */
export async function writeConsent(rest: SalesforceRest, fields: PackageFields, changes: ConsentWrite[]): Promise<WriteResult[]> {
  const results = new Map<string, WriteResult>()
  // One record may appear once per request; the latest change is the one that stands.
  const latest = new Map<string, ConsentWrite>()
  for (const change of changes) {
    const error = badRecordId(change.recordId, change.objectType)
    if (error) {
      results.set(change.recordId, { id: change.recordId, ok: false, error })
      continue
    }
    const kept = latest.get(change.recordId)
    if (!kept || change.occurredAt >= kept.occurredAt) latest.set(change.recordId, change)
  }
  for (const chunk of chunks([...latest.values()], COLLECTION_MAX)) {
    const records = chunk.map((c) => ({
      attributes: { type: personType(c.objectType) },
      Id: c.recordId,
      [fields.optIn]: c.optedIn,
      [fields.optInDate]: c.occurredAt.toISOString(),
    }))
    const answer = await rest.request<CollectionResult[]>({
      endpoint: 'collections.update', method: 'PATCH', path: '/composite/sobjects', body: { allOrNone: false, records }, priority: 'background',
    })
    chunk.forEach((c, i) => results.set(c.recordId, outcome(c.recordId, answer[i])))
  }
  return changes.map((c) => results.get(c.recordId) as WriteResult)
}

/** The Description of the Tasks already written for these messages, by message id. */
async function existingTasks(rest: SalesforceRest, fields: PackageFields, messageIds: string[]): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>()
  for (const list of inLists(messageIds)) {
    const { records } = await queryAll<SoqlRow>(rest, `SELECT Id, ${fields.messageId}, Description FROM Task WHERE ${fields.messageId} IN ${list}`, 'background')
    // SOQL compares text case-insensitively; the external id is case-sensitive.
    for (const row of records) {
      const id = row[fields.messageId]
      if (typeof id === 'string') found.set(id, typeof row.Description === 'string' ? row.Description : null)
    }
  }
  return found
}

/**
 * One Task per message, upserted on the message id: a retry or a later status rewrites the same
 * Task. Each batch costs a query (to merge the status trail and tell new Tasks from existing ones)
 * and an upsert.
 */
export async function writeEngagement(rest: SalesforceRest, fields: PackageFields, events: EngagementEvent[]): Promise<WriteResult[]> {
  const results = new Map<string, WriteResult>()
  const byMessage = new Map<string, EngagementEvent[]>()
  for (const event of events) {
    const error = badRecordId(event.recordId, event.objectType)
      ?? (event.messageId === '' || event.messageId.length > MESSAGE_ID_MAX ? validationError(`Message id must be 1 to ${MESSAGE_ID_MAX} characters`) : undefined)
    if (error) results.set(event.id, { id: event.id, ok: false, error })
    else byMessage.set(event.messageId, [...(byMessage.get(event.messageId) ?? []), event])
  }
  for (const batch of chunks([...byMessage], COLLECTION_MAX)) {
    const existing = await existingTasks(rest, fields, batch.map(([messageId]) => messageId))
    const records = batch.map(([messageId, group]) => {
      const facts = mergeFacts(parseDescription(existing.get(messageId)), group)
      return taskRecord(fields, messageId, (group[0] as EngagementEvent).recordId, facts, !existing.has(messageId))
    })
    const answer = await rest.request<CollectionResult[]>({
      endpoint: 'collections.upsert', method: 'PATCH', path: `/composite/sobjects/Task/${fields.messageId}`,
      body: { allOrNone: false, records }, priority: 'background',
    })
    batch.forEach(([, group], i) => {
      for (const event of group) results.set(event.id, outcome(event.id, answer[i]))
    })
  }
  return events.map((e) => results.get(e.id) as WriteResult)
}
