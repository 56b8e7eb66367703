import type { SRecord } from './schema.ts'
import type { CompiledQuery } from './soql.ts'
import { nextOtherId, type Org } from './state.ts'

// Server-side query cursors behind nextRecordsUrl. Like Salesforce: a cursor expires after 15
// minutes without use, and a user keeps at most 10 open (opening an 11th drops the oldest).

export const CURSOR_TTL_MS = 15 * 60_000
export const MAX_CURSORS_PER_USER = 10

export interface Cursor {
  id: string
  orgId: string
  userId: string
  query: CompiledQuery
  rows: SRecord[]
  batchSize: number
  lastUsed: number
}

export interface CursorStore {
  open(org: Org, userId: string, query: CompiledQuery, rows: SRecord[], batchSize: number, now: number): Cursor
  get(orgId: string, id: string, now: number): Cursor | undefined
  close(id: string): void
}

export function createCursorStore(): CursorStore {
  const cursors = new Map<string, Cursor>()
  return {
    open(org, userId, query, rows, batchSize, now) {
      const mine = [...cursors.values()].filter((c) => c.orgId === org.orgId && c.userId === userId)
      if (mine.length >= MAX_CURSORS_PER_USER) {
        const oldest = mine.reduce((a, b) => (a.lastUsed <= b.lastUsed ? a : b))
        cursors.delete(oldest.id)
      }
      const cursor: Cursor = { id: nextOtherId(org, 'locator'), orgId: org.orgId, userId, query, rows, batchSize, lastUsed: now }
      cursors.set(cursor.id, cursor)
      return cursor
    },
    get(orgId, id, now) {
      const cursor = cursors.get(id)
      if (!cursor || cursor.orgId !== orgId) return undefined
      if (now - cursor.lastUsed > CURSOR_TTL_MS) {
        cursors.delete(id)
        return undefined
      }
      cursor.lastUsed = now
      return cursor
    },
    close(id) {
      cursors.delete(id)
    },
  }
}
