// Lists (/crm/lists/{version}): search, get, memberships paging (by record id and by join order).
import type { FastifyInstance } from 'fastify'
import { notFound, validation } from './api-error.ts'
import type { SimContext } from './context.ts'
import { oauthRoute } from './guard.ts'
import { firstQueryValue, listParam, optionalStringArray, params, query, requireRecord } from './input.ts'
import {
  CONTACT_OBJECT_TYPE_ID,
  decodeCursor,
  encodeCursor,
  membersByJoinOrder,
  membersByRecordId,
  serializeList,
  serializeListSearchResult,
  firstIndexWhere,
} from './list-store.ts'
import { REQUIRES } from './scopes.ts'
import type { CrmList, Portal } from './types.ts'
import { SERVED_VERSIONS, type ServedVersion } from './versions.ts'

const MEMBERSHIP_MAX_LIMIT = 250
const MEMBERSHIP_DEFAULT_LIMIT = 100
const SEARCH_DEFAULT_COUNT = 20
const SEARCH_MAX_COUNT = 500

export function registerListRoutes(server: FastifyInstance, ctx: SimContext): void {
  for (const version of SERVED_VERSIONS) registerListRoutesAt(server, ctx, version)
}

function registerListRoutesAt(server: FastifyInstance, ctx: SimContext, version: ServedVersion): void {
  const base = `/crm/lists/${version}`
  oauthRoute(server, ctx, 'POST', `${base}/search`, REQUIRES.listsRead, (request, _reply, { portal }) => {
    const body = requireRecord(request.body ?? {}, 'request body')
    const offset = body.offset === undefined ? 0 : Number(body.offset)
    const count = body.count === undefined ? SEARCH_DEFAULT_COUNT : Number(body.count)
    if (!Number.isInteger(offset) || offset < 0) throw validation('offset must be a non-negative integer.')
    if (!Number.isInteger(count) || count < 1 || count > SEARCH_MAX_COUNT) throw validation(`count must be between 1 and ${SEARCH_MAX_COUNT}.`)
    const ids = optionalStringArray(body.listIds, 'listIds')
    const types = optionalStringArray(body.processingTypes, 'processingTypes')
    const text = typeof body.query === 'string' ? body.query.toLowerCase() : ''
    const matches = [...portal.lists.values()].filter(
      (l) => (!ids || ids.includes(l.listId)) && (!types || types.includes(l.processingType)) && l.name.toLowerCase().includes(text),
    )
    const page = matches.slice(offset, offset + count)
    return { lists: page.map(serializeListSearchResult), offset: offset + page.length, hasMore: offset + page.length < matches.length, total: matches.length }
  })

  for (const url of [base, `${base}/`]) {
    oauthRoute(server, ctx, 'GET', url, REQUIRES.listsRead, (request, _reply, { portal }) => {
      const ids = listParam(query(request).listIds) ?? []
      return { lists: ids.flatMap((id) => portal.lists.get(id) ?? []).map(serializeList) }
    })
  }

  oauthRoute(server, ctx, 'GET', `${base}/:listId`, REQUIRES.listsRead, (request, _reply, { portal }) => ({
    list: serializeList(requireList(portal, params(request).listId)),
  }))

  oauthRoute(server, ctx, 'GET', `${base}/object-type-id/:objectTypeId/name/:listName`, REQUIRES.listsRead, (request, _reply, { portal }) => {
    const { objectTypeId, listName } = params(request)
    const list = [...portal.lists.values()].find((l) => objectTypeId === CONTACT_OBJECT_TYPE_ID && l.name === listName)
    if (!list) throw notFound(`List does not exist with name ${listName} for object type ${objectTypeId}.`)
    return { list: serializeList(list) }
  })

  // Ordered by recordId: ascending with `after` (or nothing), descending with only `before`.
  oauthRoute(server, ctx, 'GET', `${base}/:listId/memberships`, REQUIRES.listsRead, (request, _reply, { portal }) => {
    const list = requireList(portal, params(request).listId)
    const q = query(request)
    const limit = membershipLimit(firstQueryValue(q.limit))
    const sorted = membersByRecordId(list)
    const after = cursorParam('m', firstQueryValue(q.after), 1)
    const before = cursorParam('m', firstQueryValue(q.before), 1)
    const row = (id: number): Record<string, string> => ({ recordId: String(id), membershipTimestamp: isoAt(list, id) })
    if (before && !after) {
      const end = firstIndexWhere(sorted, (id) => id >= (before[0] ?? 0))
      const start = Math.max(0, end - limit)
      const page = sorted.slice(start, end).reverse()
      const last = page.at(-1)
      return pageBody(page.map(row), list, start > 0 && last !== undefined ? { prev: { before: encodeCursor('m', [last]) } } : {})
    }
    const start = after ? firstIndexWhere(sorted, (id) => id > (after[0] ?? 0)) : 0
    const page = sorted.slice(start, start + limit)
    const last = page.at(-1)
    const first = page[0]
    return pageBody(page.map(row), list, {
      ...(start + limit < sorted.length && last !== undefined ? { next: { after: encodeCursor('m', [last]) } } : {}),
      ...(start > 0 && first !== undefined ? { prev: { before: encodeCursor('m', [first]) } } : {}),
    })
  })

  // Ordered by membershipTimestamp (then recordId), for incremental "who joined since" reads.
  oauthRoute(server, ctx, 'GET', `${base}/:listId/memberships/join-order`, REQUIRES.listsRead, (request, _reply, { portal }) => {
    const list = requireList(portal, params(request).listId)
    const q = query(request)
    const limit = membershipLimit(firstQueryValue(q.limit))
    const sorted = membersByJoinOrder(list)
    const after = cursorParam('j', firstQueryValue(q.after), 2)
    const joinedAt = (id: number): number => list.members.get(id) ?? 0
    const start = after
      ? firstIndexWhere(sorted, (id) => joinedAt(id) > (after[0] ?? 0) || (joinedAt(id) === after[0] && id > (after[1] ?? 0)))
      : 0
    const page = sorted.slice(start, start + limit)
    const last = page.at(-1)
    return pageBody(
      page.map((id) => ({ recordId: String(id), membershipTimestamp: isoAt(list, id) })),
      list,
      start + limit < sorted.length && last !== undefined ? { next: { after: encodeCursor('j', [joinedAt(last), last]) } } : {},
    )
  })

  oauthRoute(server, ctx, 'GET', `${base}/records/:objectTypeId/:recordId/memberships`, REQUIRES.listsRead, (request, _reply, { portal }) => {
    const recordId = Number(params(request).recordId)
    const results = [...portal.lists.values()]
      .filter((l) => params(request).objectTypeId === CONTACT_OBJECT_TYPE_ID && l.members.has(recordId))
      .map((l) => ({
        listId: l.listId,
        listVersion: l.listVersion,
        firstAddedTimestamp: isoAt(l, recordId),
        lastAddedTimestamp: isoAt(l, recordId),
        isPublicList: true,
      }))
    return { results, total: results.length }
  })
}

function requireList(portal: Portal, listId: string | undefined): CrmList {
  const list = listId === undefined ? undefined : portal.lists.get(listId)
  if (!list) throw notFound(`List does not exist with ID ${listId}.`, { context: { listId: [String(listId)] } })
  return list
}

function membershipLimit(raw: string | undefined): number {
  if (raw === undefined) return MEMBERSHIP_DEFAULT_LIMIT
  const limit = Number(raw)
  if (!Number.isInteger(limit) || limit < 1 || limit > MEMBERSHIP_MAX_LIMIT) {
    throw validation(`limit must be between 1 and ${MEMBERSHIP_MAX_LIMIT}. Provided value: ${raw}.`)
  }
  return limit
}

function cursorParam(kind: string, raw: string | undefined, arity: number): number[] | null {
  if (raw === undefined || raw === '') return null
  const parts = decodeCursor(kind, raw, arity)
  if (!parts) throw validation(`Invalid paging cursor: ${raw}`)
  return parts
}

function isoAt(list: CrmList, recordId: number): string {
  return new Date(list.members.get(recordId) ?? list.createdAt).toISOString()
}

function pageBody(results: Record<string, string>[], list: CrmList, paging: Record<string, unknown>): Record<string, unknown> {
  return { results, ...(Object.keys(paging).length > 0 ? { paging } : {}), total: list.members.size }
}
