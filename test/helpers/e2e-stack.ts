import type { FastifyInstance } from 'fastify'
import type { Queryable } from '../../connector/db/database.ts'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../connector/app.ts'
import { startGraphSimulator, type GraphSimulator } from '../simulators/graph/graph-simulator.ts'
import { createTestDatabase, type TestDatabase } from './test-database.ts'
import { testConfig, TEST_APP_SECRET } from './test-config.ts'

// The connector and the Graph simulator over real HTTP on ephemeral ports.

export interface E2eStack {
  app: FastifyInstance
  url: string
  graph: GraphSimulator
  tdb: TestDatabase
  close(): Promise<void>
}

export const NUMBER = { phoneNumberId: '106540352242922', wabaId: '102290129340398', accessToken: 'EAAG-test-system-user-token', displayPhoneNumber: '+1 555-078-3881' }

export async function startE2eStack(env: Record<string, string> = {}): Promise<E2eStack> {
  const graph = await startGraphSimulator({ appSecret: TEST_APP_SECRET })
  graph.addNumber({ ...NUMBER, messagesPerSecond: 80, verifiedName: 'Acme Outdoor' })
  graph.addTemplate(NUMBER.wabaId, { name: 'spring_sale', language: 'en_US', category: 'MARKETING', components: [{ type: 'BODY', text: 'Hi {{1}}, take {{2}} off.' }] })
  graph.addTemplate(NUMBER.wabaId, { name: 'order_update', language: 'en', category: 'UTILITY', components: [{ type: 'BODY', text: 'Your order shipped.' }] })
  const tdb = await createTestDatabase()
  const app = await buildApp(testConfig({ WHATSAPP_GRAPH_URL: graph.url, ...env }), { db: tdb.db })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  graph.setWebhookUrl(`${url}/webhooks/whatsapp`)
  return {
    app,
    url,
    graph,
    tdb,
    async close() {
      await graph.close()
      await app.close()
      await tdb.dispose()
    },
  }
}

/** Polls until `check` returns a value that is not undefined, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

/** Resolves once every stored webhook has been processed: what a check after a delivery waits for. */
export async function inboxProcessed(db: Queryable, ms = 5_000): Promise<void> {
  await eventually(async () => ((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE state = 'pending'`)).rows[0]!.n === 0 ? true : undefined), ms, 'the inbox to be processed')
}
