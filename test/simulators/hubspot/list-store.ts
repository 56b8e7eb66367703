// Lists (segments) and their memberships. Members live in a Map; the two orders HubSpot pages in
// (record id, join time) are sorted arrays built on demand and dropped when membership changes.
import type { CrmList, Portal, ProcessingType } from './types.ts'

export const CONTACT_OBJECT_TYPE_ID = '0-1'

export function createList(portal: Portal, name: string, processingType: ProcessingType, createdAt: number): CrmList {
  const list: CrmList = {
    listId: String(portal.nextListId++),
    name,
    processingType,
    listVersion: 1,
    createdAt,
    updatedAt: createdAt,
    members: new Map(),
    byRecordId: null,
    byJoinOrder: null,
  }
  portal.lists.set(list.listId, list)
  return list
}

export function addMember(list: CrmList, recordId: number, at: number): boolean {
  if (list.members.has(recordId)) return false
  list.members.set(recordId, at)
  touch(list, at)
  return true
}

export function removeMember(list: CrmList, recordId: number, at: number): boolean {
  if (!list.members.delete(recordId)) return false
  touch(list, at)
  return true
}

function touch(list: CrmList, at: number): void {
  list.byRecordId = null
  list.byJoinOrder = null
  list.updatedAt = Math.max(list.updatedAt, at)
}

export function membersByRecordId(list: CrmList): number[] {
  list.byRecordId ??= [...list.members.keys()].sort((a, b) => a - b)
  return list.byRecordId
}

export function membersByJoinOrder(list: CrmList): number[] {
  list.byJoinOrder ??= [...list.members.keys()].sort((a, b) => (list.members.get(a) ?? 0) - (list.members.get(b) ?? 0) || a - b)
  return list.byJoinOrder
}

/** Binary search: first index where `test` holds, for a `test` that is false then true along `sorted`. */
export function firstIndexWhere<T>(sorted: readonly T[], test: (item: T) => boolean): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (test(sorted[mid] as T)) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** Cursors are opaque on HubSpot; these are too, so clients can't lean on them being record ids. */
export function encodeCursor(kind: string, parts: number[]): string {
  return Buffer.from(`${kind}:${parts.join(':')}`).toString('base64url')
}

export function decodeCursor(kind: string, cursor: string, arity: number): number[] | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const [prefix, ...rest] = text.split(':')
  const parts = rest.map(Number)
  return prefix === kind && parts.length === arity && parts.every(Number.isFinite) ? parts : null
}

export function serializeList(list: CrmList): Record<string, unknown> {
  return {
    listId: list.listId,
    listVersion: list.listVersion,
    name: list.name,
    objectTypeId: CONTACT_OBJECT_TYPE_ID,
    processingType: list.processingType,
    processingStatus: 'COMPLETE',
    size: list.members.size,
    createdAt: new Date(list.createdAt).toISOString(),
    updatedAt: new Date(list.updatedAt).toISOString(),
    filtersUpdatedAt: new Date(list.createdAt).toISOString(),
    createdById: '1',
    updatedById: '1',
  }
}

/** Search results carry size and activity in additionalProperties rather than `size`. */
export function serializeListSearchResult(list: CrmList): Record<string, unknown> {
  const { size, ...rest } = serializeList(list)
  const lastAdded = membersByJoinOrder(list).at(-1)
  return {
    ...rest,
    additionalProperties: {
      hs_list_size: String(size),
      hs_last_record_added_at: lastAdded === undefined ? null : String(list.members.get(lastAdded)),
    },
  }
}
