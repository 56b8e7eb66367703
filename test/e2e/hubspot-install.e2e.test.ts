import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { findInstallation } from '../../connector/installations/installation-repository.ts'
import { startHubSpotSimulator, type HubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'
import { follow } from '../helpers/browser.ts'
import { appPropertiesIn, appPropertyTypes, portalProperties } from '../helpers/hubspot-properties.ts'
import { freePort } from '../helpers/free-port.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'

// A full HubSpot install through the simulator over real HTTP, following the redirects as a
// browser would; then token refresh, invalid_grant and uninstall.

let hs: HubSpotSimulator
let tdb: TestDatabase
let app: FastifyInstance
let base: string
let portalId: number

function configFor(publicUrl: string, port: number) {
  const a = hs.apps()[0]!
  return testConfig({
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    HUBSPOT_CLIENT_ID: a.clientId,
    HUBSPOT_CLIENT_SECRET: a.clientSecret,
    HUBSPOT_APP_ID: String(a.appId),
    HUBSPOT_API_BASE: hs.url,
    HUBSPOT_AUTH_URL: `${hs.url}/oauth/authorize`,
  })
}

beforeAll(async () => {
  hs = await startHubSpotSimulator()
  portalId = hs.portals()[0]!.portalId
  hs.setAutoConsent({ portalId })
  tdb = await createTestDatabase()
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  app = await buildApp(configFor(base, port), { db: tdb.db, workers: false })
  await app.listen({ port, host: '127.0.0.1' })
})
afterAll(async () => {
  // Every HubSpot call of the whole file went to a date-versioned path (numbered ones are refused).
  expect(hs.stats().refusedNumbered).toEqual({})
  await app?.close()
  await hs?.close()
  await tdb?.dispose()
})

async function installations() {
  const res = await fetch(`${base}/api/v1/installations`, { headers: adminHeaders })
  return (await res.json()) as Array<Record<string, any>>
}

async function events(installationId: string): Promise<Array<{ kind: string; detail: Record<string, unknown> }>> {
  const { rows } = await tdb.db.query<{ kind: string; detail: Record<string, unknown> }>('SELECT kind, detail FROM installation_events WHERE installation_id = $1 ORDER BY id', [installationId])
  return rows
}

async function eventCount(): Promise<number> {
  const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM installation_events')
  return rows[0]!.n
}

describe('HubSpot install', () => {
  let callbackUrl: string

  test('install → HubSpot consent → callback stores one installation with encrypted tokens', async () => {
    const r = await follow(`${base}/oauth/hubspot/install`)
    expect(r.status).toBe(200)
    expect(r.body).toContain('WhatsApp Lists is installed')
    expect(r.hops[1]).toMatch(new RegExp(`^${hs.url}/oauth/authorize\\?`))
    const authorize = new URL(r.hops[1]!)
    expect(authorize.searchParams.get('scope')!.split(' ')).toContain('crm.lists.read')
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/oauth/hubspot/callback`)
    callbackUrl = r.url
    const list = await installations()
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ crm: 'hubspot', accountId: String(portalId), status: 'active', missingScopes: [] })
    expect(list[0]!.scopes).toContain('crm.objects.contacts.read')
    const { rows } = await tdb.db.query<{ access_token_enc: string; refresh_token_enc: string }>('SELECT access_token_enc, refresh_token_enc FROM installations')
    expect(rows[0]!.access_token_enc).toMatch(/^v1\./)
    expect(rows[0]!.refresh_token_enc).toMatch(/^v1\./)
    expect(JSON.stringify(list)).not.toMatch(/access_?token|refresh_?token/i)
    // The install created the app's property group and contact properties in the portal.
    expect(r.body).toContain('Created in HubSpot for the app: property group whatsapp, whatsapp_opt_in, whatsapp_opt_in_date, whatsapp_opt_in_source, whatsapp_bsuid.')
    expect(await appPropertiesIn(hs, portalId)).toEqual(appPropertyTypes())
    expect((await portalProperties(hs, portalId)).groups).toContain('whatsapp')
    expect(await events(list[0]!.id as string)).toEqual([
      { kind: 'installed', detail: expect.any(Object) },
      { kind: 'provisioned', detail: { created: ['group:whatsapp', ...Object.keys(appPropertyTypes())], present: [], nothingToDo: false } },
    ])
  })

  test('replaying the callback is refused and changes nothing', async () => {
    const before = await eventCount()
    const r = await follow(callbackUrl)
    expect(r.status).toBe(400)
    expect(r.body, r.body).toContain('already used')
    expect(await eventCount()).toBe(before)
  })

  test('a forged, missing or expired state is refused and stores nothing', async () => {
    const before = await eventCount()
    const forged = new URL(callbackUrl)
    forged.searchParams.set('state', `${forged.searchParams.get('state')!.split('.')[0]}.AAAA`)
    expect((await follow(forged.toString())).status).toBe(400)
    const missing = new URL(callbackUrl)
    missing.searchParams.delete('state')
    expect((await follow(missing.toString())).body).toContain('no state')
    const start = await fetch(`${base}/oauth/hubspot/install`, { redirect: 'manual' })
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!
    await tdb.db.query(`UPDATE oauth_states SET expires_at = now() - interval '1 minute' WHERE id = $1`, [state.split('.')[0]])
    const expired = await follow(`${base}/oauth/hubspot/callback?code=whatever&state=${encodeURIComponent(state)}`)
    expect(expired.status).toBe(400)
    expect(expired.body).toContain('10 minutes')
    expect(await eventCount()).toBe(before)
  })

  test('HubSpot failing the code exchange (5xx) leaves no installation change', async () => {
    const before = await eventCount()
    hs.failNext({ route: 'POST /oauth/2026-03/token', status: 503, times: 1 })
    const r = await follow(`${base}/oauth/hubspot/install`)
    expect(r.status).toBe(502)
    expect(r.body).toContain('Nothing was stored')
    expect(await eventCount()).toBe(before)
    hs.clearFaults()
  })

  test('a user declining consent sees a clear page', async () => {
    hs.setAutoConsent({ portalId, decision: 'deny' })
    const r = await follow(`${base}/oauth/hubspot/install`)
    expect(r.status).toBe(400)
    expect(r.body).toContain('cancelled')
    hs.setAutoConsent({ portalId })
  })

  test('a reinstall updates the same installation', async () => {
    const [before] = await installations()
    const r = await follow(`${base}/oauth/hubspot/install`)
    expect(r.status).toBe(200)
    const after = await installations()
    expect(after).toHaveLength(1)
    expect(after[0]!.id).toBe(before!.id)
    // Provisioned again: everything is there already, nothing is created.
    expect(r.body).not.toContain('Created in HubSpot')
    expect((await events(before!.id as string)).at(-1)).toEqual({ kind: 'provisioned', detail: { created: [], present: ['group:whatsapp', ...Object.keys(appPropertyTypes())], nothingToDo: false } })
  })
})

describe('tokens', () => {
  test('two connector instances refreshing the same installation at once make one refresh', async () => {
    const [inst] = await installations()
    await tdb.db.query(`UPDATE installations SET access_token_expires_at = now() + interval '1 minute' WHERE id = $1`, [inst!.id])
    const other = tdb.url ? await buildApp(configFor(base, 1), { db: await tdb.open(), workers: false }) : await buildApp(configFor(base, 1), { db: tdb.db, workers: false })
    const before = hs.stats().refreshesByPortal[String(portalId)] ?? 0
    const tokens = await Promise.all([
      app.services.tokens.accessToken(inst!.id),
      other.services.tokens.accessToken(inst!.id),
      app.services.tokens.accessToken(inst!.id),
      other.services.tokens.accessToken(inst!.id),
    ])
    expect(new Set(tokens).size).toBe(1)
    expect((hs.stats().refreshesByPortal[String(portalId)] ?? 0) - before).toBe(1)
    await other.close()
  })

  test('invalid_grant marks the installation needs_reauth', async () => {
    const [inst] = await installations()
    await tdb.db.query(`UPDATE installations SET access_token_expires_at = now() WHERE id = $1`, [inst!.id])
    hs.failRefresh(portalId, true)
    await expect(app.services.tokens.accessToken(inst!.id)).rejects.toMatchObject({ code: 'INVALID_GRANT' })
    const [after] = await installations()
    expect(after).toMatchObject({ status: 'needs_reauth' })
    expect(after!.lastError).toMatch(/invalid_grant/)
    await expect(app.services.tokens.accessToken(inst!.id)).rejects.toMatchObject({ code: 'INSTALLATION_INACTIVE' })
    hs.failRefresh(portalId, false)
    expect((await follow(`${base}/oauth/hubspot/install`)).status).toBe(200)
    expect((await installations())[0]).toMatchObject({ status: 'active', lastError: null })
  })
})

describe('the installation\'s CrmAdapter', () => {
  test('reads through the stored, refreshed tokens and counts its calls', async () => {
    const list = hs.seed({ portalId, contacts: 30, lists: [{ name: 'VIP customers', size: 12 }] }).lists[0]!
    const [inst] = await installations()
    await tdb.db.query(`UPDATE installations SET access_token_expires_at = now() WHERE id = $1`, [inst!.id])
    const adapter = app.services.crm.for((await findInstallation(tdb.db, inst!.id))!)
    const sources = await adapter.listSegmentSources('VIP')
    expect(sources.map((s) => s.name)).toContain('VIP customers')
    let members = 0
    for await (const page of adapter.streamSegmentMembers({ type: 'hubspot_list', id: String(list.listId) }, { properties: ['mobilephone', 'phone'] })) members += page.records.length
    expect(members).toBe(12)
    const metrics = await (await fetch(`${base}/metrics`, { headers: adminHeaders })).text()
    expect(metrics).toMatch(/connector_crm_calls_total\{crm="hubspot",endpoint="POST \/crm\/lists\/2026-03\/search",status="200"\} 1/)
  })
})

describe('uninstall', () => {
  test('revokes at HubSpot, erases the tokens, keeps the audit trail', async () => {
    const [inst] = await installations()
    const { rows: before } = await tdb.db.query<{ refresh_token_enc: string }>('SELECT refresh_token_enc FROM installations WHERE id = $1', [inst!.id])
    const refreshToken = app.services.secrets.open(before[0]!.refresh_token_enc)
    const res = await fetch(`${base}/api/v1/installations/${inst!.id}`, { method: 'DELETE', headers: adminHeaders })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ revoked: true, installation: { status: 'uninstalled' } })
    const { rows } = await tdb.db.query<{ access_token_enc: string | null; refresh_token_enc: string | null }>('SELECT access_token_enc, refresh_token_enc FROM installations WHERE id = $1', [inst!.id])
    expect(rows[0]).toEqual({ access_token_enc: null, refresh_token_enc: null })
    const refused = await fetch(`${hs.url}/oauth/2026-03/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: hs.apps()[0]!.clientId, client_secret: hs.apps()[0]!.clientSecret }),
    })
    expect(refused.status).toBe(400)
    const { rows: events } = await tdb.db.query<{ kind: string }>('SELECT kind FROM installation_events WHERE installation_id = $1 ORDER BY id', [inst!.id])
    expect(events.map((e) => e.kind)).toEqual(['installed', 'provisioned', 'reinstalled', 'provisioned', 'needs_reauth', 'reinstalled', 'provisioned', 'uninstalled'])
    await expect(app.services.tokens.accessToken(inst!.id)).rejects.toMatchObject({ code: 'INSTALLATION_INACTIVE' })
  })

  test('an unknown installation is 404', async () => {
    const res = await fetch(`${base}/api/v1/installations/00000000-0000-4000-8000-000000000000`, { method: 'DELETE', headers: adminHeaders })
    expect(res.status).toBe(404)
  })
})

describe('provisioning the portal', () => {
  test('property creation failing does not undo the install: the page says so, last_error keeps it, a reinstall provisions again', async () => {
    const other = hs.createPortal().portalId
    hs.setAutoConsent({ portalId: other })
    hs.failNext({ route: 'POST /crm/properties/2026-03/:objectType/batch/create', status: 500 })
    const failed = await follow(`${base}/oauth/hubspot/install`)
    expect(failed.status).toBe(200)
    expect(failed.body).toContain('WhatsApp Lists is installed')
    expect(failed.body).toContain('Setting up HubSpot for the app did not complete: the CRM answered with an error (')
    expect(failed.body).toContain('installing again retries it')
    const inst = (await installations()).find((i) => i.accountId === String(other))!
    expect(inst).toMatchObject({ status: 'active' })
    expect(inst.lastError).toMatch(/^Provisioning failed: HubSpot POST \/crm\/properties\/2026-03\/\{objectType\}\/batch\/create answered 500/)
    const [, provision] = await events(inst.id as string)
    expect(provision).toMatchObject({ kind: 'provision_failed', detail: { reason: expect.stringContaining('answered 500') } })
    // The group was made before the batch failed; the properties were not (a create is not retried blind).
    expect((await portalProperties(hs, other)).groups).toContain('whatsapp')
    expect(Object.values(await appPropertiesIn(hs, other)).every((t) => t === undefined)).toBe(true)
    // The tokens are good: the installation works.
    await expect(app.services.crm.for((await findInstallation(tdb.db, inst.id as string))!).listSegmentSources()).resolves.toEqual([])

    const again = await follow(`${base}/oauth/hubspot/install`)
    expect(again.status).toBe(200)
    expect(again.body).not.toContain('did not complete')
    expect(again.body).toContain(`Created in HubSpot for the app: ${Object.keys(appPropertyTypes()).join(', ')}.`)
    expect(await appPropertiesIn(hs, other)).toEqual(appPropertyTypes())
    expect((await installations()).find((i) => i.id === inst.id)).toMatchObject({ status: 'active', lastError: null })
    expect((await events(inst.id as string)).map((e) => e.kind)).toEqual(['installed', 'provision_failed', 'reinstalled', 'provisioned'])
  })
})
