import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { engagementEventTypes, loadManifest, type Manifest } from '../../connector/manifest/manifest.ts'
import { containsJson, main, provisionHubSpot, ProvisionError, type ProvisionOptions, type ProvisioningState } from '../../scripts/provision.ts'
import { type AppCredentials, type HubSpotSimulator, startHubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'

// `npm run provision` against the HubSpot simulator, which serves the app-level APIs (webhooks v3,
// automation v4 actions, timeline v3 templates) with a developer API key like HubSpot does.

const PUBLIC_URL = 'https://connector.test'
const WRITE = /^(POST|PUT|PATCH|DELETE) /

let sim: HubSpotSimulator
let app: AppCredentials
const temps: string[] = []

const manifest = loadManifest()
/** Provisioning names every workflow action the connector does not serve yet. */
const unserved = manifest.hubspot.workflowActions.filter((a) => !a.served).map((a) => expect.stringContaining(`workflow action ${a.uid}: the connector does not serve ${a.path} yet`))

beforeAll(async () => {
  sim = await startHubSpotSimulator()
  const first = sim.apps()[0]
  if (!first) throw new Error('the simulator has no app')
  app = first
})

afterAll(async () => {
  await sim?.close()
  for (const dir of temps) rmSync(dir, { recursive: true, force: true })
})

function options(extra: Partial<ProvisionOptions> = {}): ProvisionOptions {
  return { apiBase: sim.url, appId: app.appId, developerApiKey: app.developerApiKey, publicUrl: PUBLIC_URL, manifest, legacyTimeline: true, ...extra }
}

/** Calls the simulator's app-level API directly, as a human in the developer portal might. */
async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sim.url}${path}${path.includes('?') ? '&' : '?'}hapikey=${app.developerApiKey}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return res.status === 204 ? undefined : res.json()
}

function writes(): string[] {
  return Object.keys(sim.stats().byEndpoint).filter((k) => WRITE.test(k))
}

async function reset(): Promise<void> {
  // A clean app: the simulator keeps app state between tests.
  for (const s of (await api('GET', `/webhooks/2026-03/${app.appId}/subscriptions`)).results) await api('DELETE', `/webhooks/2026-03/${app.appId}/subscriptions/${s.id}`)
  for (const d of (await api('GET', `/automation/actions/2026-03/${app.appId}?limit=100`)).results) await api('DELETE', `/automation/actions/2026-03/${app.appId}/${d.id}`)
  for (const t of (await api('GET', `/integrators/timeline/v3/${app.appId}/event-templates`)).results) await api('DELETE', `/integrators/timeline/v3/${app.appId}/event-templates/${t.id}`)
  await api('DELETE', `/webhooks/2026-03/${app.appId}/settings`)
  sim.clearFaults()
  sim.resetStats()
}

beforeEach(reset)
afterEach(() => sim.clearFaults())

describe('provisionHubSpot', () => {
  test('creates everything on the first run and nothing on the second', async () => {
    const first = await provisionHubSpot(options())
    const subscriptions = manifest.hubspot.webhooks.subscriptions.length
    const templates = engagementEventTypes(manifest).length
    expect(first.counts).toEqual({ created: 1 + subscriptions + 1 + templates, updated: 0, reactivated: 0, unchanged: 0 })
    expect(first.warnings).toEqual(unserved)

    sim.resetStats()
    const second = await provisionHubSpot(options({ previous: first.state }))
    expect(second.counts).toEqual({ created: 0, updated: 0, reactivated: 0, unchanged: 1 + subscriptions + 1 + templates })
    expect(writes()).toEqual([])
    expect(second.state.webhooks).toEqual(first.state.webhooks)
    expect(second.state.workflowActions).toEqual(first.state.workflowActions)
    expect(second.state.timelineTemplates).toEqual(first.state.timelineTemplates)

    // Also idempotent without the stored ids (a lost state file never duplicates).
    const third = await provisionHubSpot(options())
    expect(third.counts.created + third.counts.updated).toBe(0)
    expect((await api('GET', `/automation/actions/2026-03/${app.appId}`)).results).toHaveLength(1)
    expect((await api('GET', `/webhooks/2026-03/${app.appId}/subscriptions`)).results).toHaveLength(subscriptions)
    expect((await api('GET', `/integrators/timeline/v3/${app.appId}/event-templates`)).results).toHaveLength(templates)
  })

  test('HubSpot ends up with the manifest configuration', async () => {
    const result = await provisionHubSpot(options())
    expect(await api('GET', `/webhooks/2026-03/${app.appId}/settings`)).toMatchObject({ targetUrl: `${PUBLIC_URL}/webhooks/hubspot`, throttling: { maxConcurrentRequests: 10 } })
    const subs = (await api('GET', `/webhooks/2026-03/${app.appId}/subscriptions`)).results as { eventType: string; propertyName?: string; active: boolean; id: string }[]
    expect(subs.every((s) => s.active)).toBe(true)
    expect(subs.map((s) => (s.propertyName ? `${s.eventType}:${s.propertyName}` : s.eventType)).sort()).toEqual(Object.keys(result.state.webhooks.subscriptions).sort())
    const actionId = result.state.workflowActions['send-whatsapp-template']?.id
    const definition = await api('GET', `/automation/actions/2026-03/${app.appId}/${actionId}`)
    expect(definition).toMatchObject({ actionUrl: `${PUBLIC_URL}/hubspot/actions/send-whatsapp`, published: true, objectTypes: ['CONTACT'] })
    expect(definition.inputFields[0].typeDefinition.optionsUrl).toBe(`${PUBLIC_URL}/hubspot/actions/send-whatsapp/options`)
    const templates = (await api('GET', `/integrators/timeline/v3/${app.appId}/event-templates`)).results as { id: string; name: string; tokens: { name: string }[] }[]
    expect(templates.map((t) => t.name).sort()).toEqual(engagementEventTypes(manifest).map((e) => e.label).sort())
    expect(result.state.timelineTemplates.failed).toBe(templates.find((t) => t.name === 'WhatsApp message failed')?.id)
  })

  test('the provisioned action makes HubSpot send the enrolled contact with the requested properties', async () => {
    const received: { body: string }[] = []
    const server: Server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        received.push({ body })
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ outputFields: { hs_execution_state: 'BLOCK' } }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const result = await provisionHubSpot(options({ legacyTimeline: false }))
      const portalId = sim.portals()[0]!.portalId
      const seeded = sim.seed({ portalId, contacts: 1 })
      const contactId = seeded.contacts.firstId!
      sim.setContactProperties(portalId, contactId, { hs_whatsapp_phone_number: '+4915112345678', whatsapp_opt_in: 'true' }, { emitWebhooks: false })
      const invocation = await sim.invokeWorkflowAction({
        portalId,
        definitionId: result.state.workflowActions['send-whatsapp-template']!.id,
        objectId: contactId,
        inputFields: { template_name: 'order_update', template_language: 'en', phone_property: 'hs_whatsapp_phone_number' },
        targetUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hubspot/actions/send-whatsapp`,
      })
      expect(invocation.status).toBe(200)
      const body = JSON.parse(received[0]!.body)
      expect(body.object.properties).toMatchObject({ hs_whatsapp_phone_number: '+4915112345678', whatsapp_opt_in: 'true' })
      expect(body.inputFields.template_name).toBe('order_update')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('updates what differs instead of creating: new public URL, changed labels, deactivated subscription', async () => {
    const first = await provisionHubSpot(options())
    const optInId = first.state.webhooks.subscriptions['contact.propertyChange:whatsapp_opt_in']!
    await api('PATCH', `/webhooks/2026-03/${app.appId}/subscriptions/${optInId}`, { active: false })
    const changed = structuredClone(manifest) as Manifest
    changed.hubspot.workflowActions[0]!.labels.en!.actionDescription = 'Sends a WhatsApp template (v2).'
    changed.hubspot.engagementEvents.find((e) => e.kind === 'read')!.detailTemplate = 'Read: {{message_text}}'
    const actionId = first.state.workflowActions['send-whatsapp-template']!.id
    const revisionBefore = (await api('GET', `/automation/actions/2026-03/${app.appId}/${actionId}`)).revisionId

    sim.resetStats()
    const second = await provisionHubSpot(options({ publicUrl: 'https://connector-2.test/', manifest: changed, previous: first.state }))

    const byKind = (kind: string) => second.changes.filter((c) => c.kind === kind)
    expect(byKind('webhook-settings')).toEqual([expect.objectContaining({ action: 'updated', key: 'https://connector-2.test/webhooks/hubspot' })])
    expect(byKind('webhook-subscription').find((c) => c.key === 'contact.propertyChange:whatsapp_opt_in')).toMatchObject({ action: 'reactivated', id: optInId })
    expect(byKind('workflow-action')).toEqual([{ kind: 'workflow-action', key: 'send-whatsapp-template', action: 'updated', id: actionId }])
    expect(byKind('timeline-template').filter((c) => c.action !== 'unchanged')).toEqual([expect.objectContaining({ key: 'read', action: 'updated' })])
    expect(second.counts.created).toBe(0)
    expect(writes().some((w) => w.startsWith('POST '))).toBe(false)

    const definition = await api('GET', `/automation/actions/2026-03/${app.appId}/${actionId}`)
    expect(definition.actionUrl).toBe('https://connector-2.test/hubspot/actions/send-whatsapp')
    expect(definition.labels.en.actionDescription).toBe('Sends a WhatsApp template (v2).')
    expect(Number(definition.revisionId)).toBe(Number(revisionBefore) + 1)
    expect(second.state.workflowActions['send-whatsapp-template']?.revisionId).toBe(definition.revisionId)
    expect((await api('GET', `/webhooks/2026-03/${app.appId}/subscriptions/${optInId}`)).active).toBe(true)
  })

  test('finds an existing definition by its action URL when there is no stored id, and leaves foreign subscriptions alone', async () => {
    const first = await provisionHubSpot(options({ legacyTimeline: false }))
    await api('POST', `/webhooks/2026-03/${app.appId}/subscriptions`, { eventType: 'contact.creation', active: true })
    const again = await provisionHubSpot(options({ legacyTimeline: false, publicUrl: 'https://moved.test' }))
    expect(again.state.workflowActions).toEqual({ 'send-whatsapp-template': expect.objectContaining({ id: first.state.workflowActions['send-whatsapp-template']!.id }) })
    expect(again.warnings).toEqual([expect.stringContaining('webhook subscription contact.creation'), ...unserved])
    expect((await api('GET', `/webhooks/2026-03/${app.appId}/subscriptions`)).results.some((s: { eventType: string }) => s.eventType === 'contact.creation')).toBe(true)
  })

  test('does not touch timeline templates without --legacy-timeline and keeps their stored ids', async () => {
    const first = await provisionHubSpot(options())
    sim.resetStats()
    const second = await provisionHubSpot(options({ legacyTimeline: false, previous: first.state }))
    expect(second.changes.some((c) => c.kind === 'timeline-template')).toBe(false)
    expect(Object.keys(sim.stats().byEndpoint).some((k) => k.includes('/integrators/timeline'))).toBe(false)
    expect(second.state.timelineTemplates).toEqual(first.state.timelineTemplates)
  })

  test('fails with the HubSpot message and never leaks the developer key', async () => {
    sim.failNext({ route: 'POST /webhooks/2026-03/:appId/subscriptions', status: 500 })
    const error = await provisionHubSpot(options()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProvisionError)
    expect((error as ProvisionError).status).toBe(500)
    expect((error as Error).message).toMatch(/^POST \/webhooks\/2026-03\/\d+\/subscriptions answered 500/)
    expect((error as Error).message).not.toContain(app.developerApiKey)
    // A retry after the failure completes without duplicating what the first attempt created.
    await provisionHubSpot(options())
    const keys = (await api('GET', `/webhooks/2026-03/${app.appId}/subscriptions`)).results.map((s: { eventType: string; propertyName?: string }) => `${s.eventType}:${s.propertyName ?? ''}`)
    expect(new Set(keys).size).toBe(keys.length)
  })

  test('a wrong developer key is a clear 401', async () => {
    const error = await provisionHubSpot(options({ developerApiKey: 'not-the-key' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProvisionError)
    expect((error as ProvisionError).status).toBe(401)
  })

  test('warns when PUBLIC_URL is not https', async () => {
    const result = await provisionHubSpot(options({ publicUrl: 'http://localhost:3000', legacyTimeline: false }))
    expect(result.warnings).toEqual([expect.stringContaining('not https'), ...unserved])
  })
  test('used no numbered path HubSpot replaced with a date-versioned one (the legacy timeline has none)', () => {
    expect(sim.stats().refusedNumbered).toEqual({})
  })
})

describe('npm run provision (CLI)', () => {
  test('reads the environment, stores the ids in the state file and is a no-op the second time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provision-'))
    temps.push(dir)
    const statePath = join(dir, 'nested', 'hubspot-provisioning.json')
    const out: string[] = []
    const io = {
      env: { HUBSPOT_APP_ID: String(app.appId), HUBSPOT_DEVELOPER_API_KEY: app.developerApiKey, HUBSPOT_API_BASE: sim.url, PUBLIC_URL: PUBLIC_URL },
      log: (line: string) => out.push(line),
      error: (line: string) => out.push(line),
    }
    expect(await main(['--state-file', statePath, '--legacy-timeline'], io)).toBe(0)
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as ProvisioningState
    expect(state.appId).toBe(String(app.appId))
    expect(state.workflowActions['send-whatsapp-template']?.id).toMatch(/^\d+$/)
    expect(Object.keys(state.timelineTemplates).sort()).toEqual(engagementEventTypes(manifest).map((e) => e.kind).sort())
    expect(out.join('\n')).toContain(`ids stored in ${statePath}`)
    expect(out.join('\n')).not.toContain(app.developerApiKey)

    out.length = 0
    sim.resetStats()
    expect(await main(['--state-file', statePath, '--legacy-timeline'], io)).toBe(0)
    expect(out.join('\n')).toMatch(/0 created, 0 updated, 0 reactivated, \d+ unchanged/)
    expect(writes()).toEqual([])
  })

  test('lists every missing setting at once', async () => {
    const out: string[] = []
    const code = await main([], { env: {}, log: (l) => out.push(l), error: (l) => out.push(l) })
    expect(code).toBe(2)
    expect(out.join('\n')).toMatch(/HUBSPOT_APP_ID[\s\S]*HUBSPOT_DEVELOPER_API_KEY[\s\S]*PUBLIC_URL/)
  })
})

describe('containsJson', () => {
  test('accepts extra fields HubSpot adds, not missing or different ones', () => {
    expect(containsJson({ a: 1, b: [{ c: 2, createdAt: 'x' }], extra: true }, { a: 1, b: [{ c: 2 }] })).toBe(true)
    expect(containsJson({ a: 1, b: [] }, { a: 1, b: [{ c: 2 }] })).toBe(false)
    expect(containsJson({ a: '1' }, { a: 1 })).toBe(false)
    expect(containsJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false)
  })
})
