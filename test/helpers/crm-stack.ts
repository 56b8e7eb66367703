import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { startHubSpotSimulator, type HubSpotSimulator, type HubSpotSimulatorOptions } from '../simulators/hubspot/hubspot-simulator.ts'
import { startSalesforceSimulator, type SalesforceSimulator } from '../simulators/salesforce/salesforce-simulator.ts'
import { follow } from './browser.ts'
import { freePort } from './free-port.ts'
import { createTestDatabase, type TestDatabase } from './test-database.ts'
import { adminHeaders, testConfig } from './test-config.ts'

// The connector listening on a real port with one CRM simulator, installed through the real
// OAuth flow, for end-to-end tests of what comes after the install.

export interface CrmStack<Sim> {
  sim: Sim
  app: FastifyInstance
  base: string
  tdb: TestDatabase
  installationId: string
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>
  close(): Promise<void>
}

async function listen(env: Record<string, string>, tdb: TestDatabase, port: number, base: string): Promise<FastifyInstance> {
  const app = await buildApp(testConfig({ PORT: String(port), PUBLIC_URL: base, ...env }), { db: tdb.db })
  await app.listen({ port, host: '127.0.0.1' })
  return app
}

/** The admin API of a connector at `base`, with the test admin token. */
export function apiFor(base: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { ...adminHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as any }
  }
}

export async function startHubSpotStack(options: HubSpotSimulatorOptions = {}): Promise<CrmStack<HubSpotSimulator> & { portalId: number }> {
  const sim = await startHubSpotSimulator(options)
  const portalId = sim.portals()[0]!.portalId
  sim.setAutoConsent({ portalId })
  const a = sim.apps()[0]!
  const tdb = await createTestDatabase()
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app = await listen({
    HUBSPOT_CLIENT_ID: a.clientId, HUBSPOT_CLIENT_SECRET: a.clientSecret, HUBSPOT_APP_ID: String(a.appId),
    HUBSPOT_API_BASE: sim.url, HUBSPOT_AUTH_URL: `${sim.url}/oauth/authorize`,
  }, tdb, port, base)
  const installed = await follow(`${base}/oauth/hubspot/install`)
  if (installed.status !== 200) throw new Error(`HubSpot install failed: ${installed.body}`)
  const api = apiFor(base)
  const installationId = (await api('GET', '/installations')).json[0].id as string
  return { sim, app, base, tdb, installationId, portalId, api, close: async () => { await app.close(); await sim.close(); await tdb.dispose() } }
}

export async function startSalesforceStack(): Promise<CrmStack<SalesforceSimulator> & { orgId: string }> {
  const sim = await startSalesforceSimulator()
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const client = { clientId: '3MVG9-stack', clientSecret: 'stack-secret' }
  sim.registerConnectedApp({ ...client, callbackUrls: [`${base}/oauth/salesforce/callback`] })
  const orgId = sim.createOrg().orgId
  sim.setAutoApprove({ orgId })
  const tdb = await createTestDatabase()
  const app = await listen({ SALESFORCE_CLIENT_ID: client.clientId, SALESFORCE_CLIENT_SECRET: client.clientSecret, SALESFORCE_LOGIN_URL: sim.url }, tdb, port, base)
  const installed = await follow(`${base}/oauth/salesforce/install`)
  if (installed.status !== 200) throw new Error(`Salesforce install failed: ${installed.body}`)
  const api = apiFor(base)
  const installationId = (await api('GET', '/installations')).json[0].id as string
  return { sim, app, base, tdb, installationId, orgId, api, close: async () => { await app.close(); await sim.close(); await tdb.dispose() } }
}
