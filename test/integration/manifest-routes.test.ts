import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApp } from '../../connector/app.ts'
import { connectorRoutes, loadManifest, type ConnectorRoute, type Manifest } from '../../connector/manifest/manifest.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { testConfig } from '../helpers/test-config.ts'

// manifest.json is honest about the routes it tells HubSpot and Salesforce to call: every route it
// claims is in the built app's routing table, and every route it declares `served: false` is not,
// so landing such a route fails here until its flag is flipped.

const manifest = loadManifest()
let tdb: TestDatabase
let app: FastifyInstance

beforeAll(async () => {
  tdb = await createTestDatabase()
  app = await buildApp(testConfig(), { db: tdb.db, workers: false })
  await app.ready()
})
afterAll(async () => {
  await app?.close()
  await tdb?.dispose()
})

/** The manifest with every workflow action, card and the Flow action marked served. */
function everythingServed(m: Manifest): Manifest {
  const draft = structuredClone(m) as Manifest
  for (const entry of [...draft.hubspot.workflowActions, ...draft.hubspot.cards, draft.salesforce.invocableAction]) entry.served = true
  return draft
}

const key = (r: ConnectorRoute) => `${r.method} ${r.path}`
const claimed = connectorRoutes(manifest)
const unclaimed = connectorRoutes(everythingServed(manifest)).filter((r) => !claimed.some((c) => key(c) === key(r)))

/**
 * Matches a concrete path against the registered patterns, as a request would be routed
 * (`/oauth/hubspot/callback` is served by `/oauth/:crm/callback`); hasRoute compares patterns only.
 */
const routed = (r: ConnectorRoute) => app.findRoute({ method: r.method, url: r.path }) !== null

describe('manifest.json routes', () => {
  test.each(claimed.map((r) => [key(r), r] as const))('%s is served', (_name, route) => {
    expect(routed(route), `${route.caller} calls ${key(route)}`).toBe(true)
  })

  test.each(unclaimed.map((r) => [key(r), r] as const))('%s is declared not served yet, and is not', (_name, route) => {
    expect(routed(route), `${key(route)} is served now: set "served": true on ${route.caller} in manifest.json`).toBe(false)
  })

  test('the router really matches concrete paths and refuses others', () => {
    expect(app.findRoute({ method: 'GET', url: '/oauth/hubspot/callback' })?.params).toEqual({ crm: 'hubspot' })
    expect(app.findRoute({ method: 'GET', url: '/no/such/route' })).toBeNull()
    expect(app.findRoute({ method: 'PATCH', url: '/webhooks/hubspot' })).toBeNull()
  })
})
