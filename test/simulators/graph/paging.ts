// Graph conventions for reads: `fields=` projection and cursor-based paging.
import { GraphError } from './graph-errors.ts'

/** Keeps the requested fields that exist (Graph always returns id); everything when `fields` is absent. */
export function pickFields(object: Record<string, unknown>, fields: string | undefined): Record<string, unknown> {
  if (fields === undefined || fields.trim() === '') return object
  const wanted = new Set(['id', ...fields.split(',').map((f) => f.trim())])
  return Object.fromEntries(Object.entries(object).filter(([key]) => wanted.has(key)))
}

// Opaque to clients like Graph's cursors; inside it is just the position in the (filtered) list.
function encodeCursor(index: number): string {
  return Buffer.from(`sim-cursor:${index}`).toString('base64url')
}

function decodeCursor(cursor: string): number {
  const match = /^sim-cursor:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!match) throw new GraphError(100, { details: `Invalid cursor '${cursor}'.` })
  return Number(match[1])
}

export interface PageRequest {
  limit?: string
  after?: string
  /** Absolute URL of this request, used to build paging.next. */
  url: URL
}

export interface Page<T> {
  data: T[]
  paging?: { cursors: { before: string; after: string }; next?: string }
}

export const DEFAULT_PAGE_SIZE = 25
export const MAX_PAGE_SIZE = 100

export function paginate<T>(items: T[], req: PageRequest): Page<T> {
  const limit = req.limit === undefined ? DEFAULT_PAGE_SIZE : Number(req.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new GraphError(100, { details: `Param limit must be a positive integer (got '${req.limit}').` })
  const size = Math.min(limit, MAX_PAGE_SIZE)
  const start = req.after === undefined ? 0 : decodeCursor(req.after) + 1
  const data = items.slice(start, start + size)
  // Graph omits paging entirely on an empty page.
  if (data.length === 0) return { data }
  const last = start + data.length - 1
  const cursors = { before: encodeCursor(start), after: encodeCursor(last) }
  if (last >= items.length - 1) return { data, paging: { cursors } }
  const next = new URL(req.url)
  next.searchParams.set('limit', String(size))
  next.searchParams.set('after', cursors.after)
  return { data, paging: { cursors, next: next.toString() } }
}
