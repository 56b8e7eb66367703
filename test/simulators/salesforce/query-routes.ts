import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import type { Cursor } from './cursors.ts'
import { SfError } from './errors.ts'
import { rest } from './rest-guard.ts'
import { compileSoql } from './soql.ts'

// GET /query?q= and the nextRecordsUrl locators (`/query/<cursorId>-<offset>`) jsforce's
// queryMore follows. Batches default to 2,000 records; `Sforce-Query-Options: batchSize=N`
// asks for 200..2,000.

export const DEFAULT_BATCH_SIZE = 2000
export const MIN_BATCH_SIZE = 200

function batchSize(request: FastifyRequest): number {
  const header = request.headers['sforce-query-options']
  const match = /batchSize\s*=\s*(\d+)/i.exec(Array.isArray(header) ? header.join(',') : (header ?? ''))
  if (!match) return DEFAULT_BATCH_SIZE
  return Math.min(DEFAULT_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(match[1])))
}

function page(ctx: SimContext, cursor: Cursor, offset: number, version: string, resource: string) {
  const end = Math.min(offset + cursor.batchSize, cursor.rows.length)
  const records = cursor.rows.slice(offset, end).map((r) => cursor.query.project(r, version))
  const done = end >= cursor.rows.length
  if (done) ctx.cursors.close(cursor.id)
  return {
    totalSize: cursor.rows.length,
    done,
    ...(done ? {} : { nextRecordsUrl: `/services/data/${version}/${resource}/${cursor.id}-${end}` }),
    records,
  }
}

const invalidLocator = () => new SfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator')

export function registerQueryRoutes(app: FastifyInstance, ctx: SimContext): void {
  for (const resource of ['query', 'queryAll']) {
    app.get(`/${resource}`, { config: { endpoint: 'query' } }, (request) => {
      const { org, userId, version } = rest(request)
      const soql = (request.query as { q?: string }).q
      if (!soql) throw new SfError(400, 'MALFORMED_QUERY', 'A query string has to be specified')
      const now = ctx.clock.now()
      const query = compileSoql(org, soql, now)
      const rows = query.run()
      if (query.count) return { totalSize: rows.length, done: true, records: [] }
      const size = batchSize(request)
      // One batch needs no server-side cursor (and must not evict another query's cursor).
      if (rows.length <= size) return { totalSize: rows.length, done: true, records: rows.map((r) => query.project(r, version)) }
      const cursor = ctx.cursors.open(org, userId, query, rows, size, now)
      return page(ctx, cursor, 0, version, resource)
    })

    app.get(`/${resource}/:locator`, { config: { endpoint: 'queryMore' } }, (request) => {
      const { org, version } = rest(request)
      const match = /^([a-zA-Z0-9]{18})-(\d+)$/.exec((request.params as { locator: string }).locator)
      if (!match) throw invalidLocator()
      const cursor = ctx.cursors.get(org.orgId, match[1] as string, ctx.clock.now())
      const offset = Number(match[2])
      if (!cursor || offset >= cursor.rows.length) throw invalidLocator()
      return page(ctx, cursor, offset, version, resource)
    })
  }
}
