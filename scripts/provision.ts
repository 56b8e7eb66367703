import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { engagementEventTypes, loadManifest, type Manifest } from '../connector/manifest/manifest.ts'
import {
  timelineEventTemplate,
  webhookSettingsRequest,
  webhookSubscriptionRequests,
  workflowActionDefinition,
} from '../connector/manifest/hubspot-shapes.ts'
import { HUBSPOT_API_VERSIONS, hubspotPath, unversionedPath } from '../crm-adapters/hubspot/api-versions.ts'

// `npm run provision` — app-level HubSpot provisioning from manifest.json with the developer API key
// (`?hapikey=`), for what HubSpot still configures per app rather than per installed account:
//   - webhook settings (target URL, concurrency) and subscriptions   /webhooks/{version}/{appId}/...
//   - the custom workflow action definition(s)                      /automation/actions/{version}/{appId}
//   - legacy timeline event templates, with --legacy-timeline        /integrators/timeline/v3/{appId}/event-templates
// HubSpot's 2026-03 webhooks reference still shows `?hapikey=` on these app-level paths
// (https://developers.hubspot.com/docs/api-reference/latest/webhooks/get-webhooks-appId).
// Versions come from crm-adapters/hubspot/api-versions.ts; the legacy timeline has no date-versioned
// path and is listed there with the date it goes unsupported.
// Idempotent: it lists what exists, creates what is missing, updates what differs and never creates
// a duplicate; a second run changes nothing. The ids HubSpot returns are stored in a JSON file
// (default data/hubspot-provisioning.json) and printed. Per-account setup (contact properties)
// happens at install time in the connector, with the account's OAuth token.
// Apps built as developer projects (platform 2026.03+) get webhooks and the workflow action from
// `hs project upload` of ui-extensions/hubspot instead; don't provision the same app both ways.

export type Action = 'created' | 'updated' | 'unchanged' | 'reactivated'

export interface ProvisioningState {
  appId: string
  apiBase: string
  publicUrl: string
  provisionedAt: string
  webhooks: {
    targetUrl: string
    /** "eventType" or "eventType:propertyName" → subscription id */
    subscriptions: Record<string, string>
  }
  /** workflow action uid → definition id */
  workflowActions: Record<string, { id: string; revisionId?: string }>
  /** engagement kind → legacy timeline event template id (with --legacy-timeline) */
  timelineTemplates: Record<string, string>
}

export interface ProvisionChange {
  kind: 'webhook-settings' | 'webhook-subscription' | 'workflow-action' | 'timeline-template'
  key: string
  action: Action
  id?: string
}

export interface ProvisionResult {
  state: ProvisioningState
  changes: ProvisionChange[]
  counts: Record<Action, number>
  warnings: string[]
}

export interface ProvisionOptions {
  apiBase: string
  appId: string | number
  developerApiKey: string
  publicUrl: string
  manifest: Manifest
  /** Also provision legacy v3 timeline event templates (only for apps that already have some). */
  legacyTimeline?: boolean
  /** The state a previous run stored: its workflow action ids are preferred when matching. */
  previous?: ProvisioningState
  fetch?: typeof fetch
  now?: () => Date
}

export class ProvisionError extends Error {
  readonly status: number | undefined
  readonly body: unknown
  constructor(message: string, status?: number, body?: unknown) {
    super(message)
    this.name = 'ProvisionError'
    this.status = status
    this.body = body
  }
}

type Json = Record<string, unknown>

/** True when `want` is contained in `have`: HubSpot may add defaults and timestamps we don't send. */
export function containsJson(have: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => containsJson(have[i], w))
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false
    return Object.entries(want).every(([k, v]) => containsJson((have as Json)[k], v))
  }
  return have === want
}

function subscriptionKey(s: { eventType?: unknown; propertyName?: unknown }): string {
  return typeof s.propertyName === 'string' && s.propertyName ? `${String(s.eventType)}:${s.propertyName}` : String(s.eventType)
}

function pathOf(url: unknown): string | undefined {
  if (typeof url !== 'string' || !URL.canParse(url)) return undefined
  return new URL(url).pathname.replace(/\/+$/, '')
}

export async function provisionHubSpot(options: ProvisionOptions): Promise<ProvisionResult> {
  const doFetch = options.fetch ?? fetch
  const appId = String(options.appId)
  const apiBase = options.apiBase.replace(/\/+$/, '')
  const webhooks = hubspotPath(HUBSPOT_API_VERSIONS, 'webhooks', `/${appId}`)
  const actions = hubspotPath(HUBSPOT_API_VERSIONS, 'automationActions', `/${appId}`)
  const legacyTemplates = unversionedPath('legacyTimelineTemplates', { appId })
  const publicUrl = options.publicUrl.replace(/\/+$/, '')
  const m = options.manifest
  const changes: ProvisionChange[] = []
  const warnings: string[] = []
  const previous = options.previous?.appId === appId ? options.previous : undefined

  if (!/^\d+$/.test(appId)) throw new ProvisionError(`HUBSPOT_APP_ID must be a number, got ${JSON.stringify(appId)}`)
  if (!options.developerApiKey) throw new ProvisionError('a developer API key is required')
  if (!/^https?:\/\//.test(publicUrl)) throw new ProvisionError(`PUBLIC_URL must be an http(s) URL, got ${JSON.stringify(options.publicUrl)}`)
  if (!publicUrl.startsWith('https://')) warnings.push(`PUBLIC_URL ${publicUrl} is not https: HubSpot only delivers webhooks and workflow actions to https URLs`)

  /** One developer-key call; errors name the method and path, never the key. */
  async function call(method: string, path: string, body?: unknown, allow404 = false): Promise<{ status: number; json: Json | undefined }> {
    const url = new URL(`${apiBase}${path}`)
    url.searchParams.set('hapikey', options.developerApiKey)
    let response: Response
    try {
      response = await doFetch(url, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      })
    } catch (error) {
      throw new ProvisionError(`${method} ${path}: ${(error as Error).message}`)
    }
    const text = await response.text()
    let json: Json | undefined
    try {
      json = text ? (JSON.parse(text) as Json) : undefined
    } catch {
      json = undefined
    }
    if (response.status === 404 && allow404) return { status: 404, json }
    if (!response.ok) {
      const message = typeof json?.message === 'string' ? json.message : text.slice(0, 300)
      throw new ProvisionError(`${method} ${path} answered ${response.status}: ${message}`, response.status, json ?? text)
    }
    return { status: response.status, json }
  }

  const record = (change: ProvisionChange) => changes.push(change)
  const idOf = (json: Json | undefined, what: string): string => {
    const id = json?.id
    if (typeof id !== 'string' && typeof id !== 'number') throw new ProvisionError(`HubSpot returned no id for ${what}`)
    return String(id)
  }

  // 1. Webhook settings.
  const settings = webhookSettingsRequest(m, publicUrl)
  const currentSettings = await call('GET', `${webhooks}/settings`, undefined, true)
  if (currentSettings.status === 404) {
    await call('PUT', `${webhooks}/settings`, settings)
    record({ kind: 'webhook-settings', key: settings.targetUrl, action: 'created' })
  } else if (!containsJson(currentSettings.json, settings)) {
    await call('PUT', `${webhooks}/settings`, settings)
    record({ kind: 'webhook-settings', key: settings.targetUrl, action: 'updated' })
  } else {
    record({ kind: 'webhook-settings', key: settings.targetUrl, action: 'unchanged' })
  }

  // 2. Webhook subscriptions: matched on eventType + propertyName (HubSpot allows one of each).
  const existingSubscriptions = ((await call('GET', `${webhooks}/subscriptions`)).json?.results ?? []) as Json[]
  const byKey = new Map<string, Json>()
  for (const s of existingSubscriptions) {
    const key = subscriptionKey(s)
    if (byKey.has(key)) warnings.push(`webhook subscription ${key} exists more than once (ids ${String(byKey.get(key)?.id)}, ${String(s.id)}); left as is`)
    else byKey.set(key, s)
  }
  const subscriptionIds: Record<string, string> = {}
  const wanted = new Set<string>()
  for (const request of webhookSubscriptionRequests(m)) {
    const key = subscriptionKey(request)
    wanted.add(key)
    const existing = byKey.get(key)
    if (!existing) {
      const id = idOf((await call('POST', `${webhooks}/subscriptions`, request)).json, `subscription ${key}`)
      subscriptionIds[key] = id
      record({ kind: 'webhook-subscription', key, action: 'created', id })
      continue
    }
    const id = String(existing.id)
    subscriptionIds[key] = id
    if (existing.active !== request.active) {
      await call('PATCH', `${webhooks}/subscriptions/${id}`, { active: request.active })
      record({ kind: 'webhook-subscription', key, action: request.active ? 'reactivated' : 'updated', id })
    } else {
      record({ kind: 'webhook-subscription', key, action: 'unchanged', id })
    }
  }
  for (const key of byKey.keys()) {
    if (!wanted.has(key)) warnings.push(`webhook subscription ${key} (id ${String(byKey.get(key)?.id)}) is not in manifest.json; left as is`)
  }

  // 3. Workflow action definitions: matched by stored id, then by action URL path, then by name.
  const definitions: Json[] = []
  for (let after: string | undefined, page = 0; page < 100; page++) {
    const query = new URLSearchParams({ limit: '100', ...(after ? { after } : {}) })
    const json = (await call('GET', `${actions}?${query}`)).json
    definitions.push(...((json?.results ?? []) as Json[]))
    const next = (json?.paging as { next?: { after?: unknown } } | undefined)?.next?.after
    if (typeof next !== 'string' && typeof next !== 'number') break
    after = String(next)
  }
  const workflowActions: ProvisioningState['workflowActions'] = {}
  const claimed = new Set<string>()
  for (const action of m.hubspot.workflowActions) {
    // Registered all the same, so the app's definition is complete when the route lands.
    if (!action.served) warnings.push(`workflow action ${action.uid}: the connector does not serve ${action.path} yet (manifest.json "served": false); workflows using it will fail until it does`)
    const body = workflowActionDefinition(action, publicUrl)
    const actionName = action.labels.en?.actionName
    const unclaimed = definitions.filter((d) => !claimed.has(String(d.id)))
    const storedId = previous?.workflowActions[action.uid]?.id
    const matches = [
      ...unclaimed.filter((d) => storedId !== undefined && String(d.id) === storedId),
      ...unclaimed.filter((d) => pathOf(d.actionUrl) === pathOf(body.actionUrl)),
      ...unclaimed.filter((d) => actionName !== undefined && (d.labels as Record<string, { actionName?: unknown }> | undefined)?.en?.actionName === actionName),
    ]
    const existing = matches[0]
    const others = new Set(matches.map((d) => String(d.id)))
    if (others.size > 1) warnings.push(`workflow action ${action.uid}: several definitions match (ids ${[...others].join(', ')}); updated ${String(existing?.id)}, left the others`)
    if (!existing) {
      const json = (await call('POST', actions, body)).json
      const id = idOf(json, `workflow action ${action.uid}`)
      claimed.add(id)
      workflowActions[action.uid] = { id, ...(json?.revisionId !== undefined ? { revisionId: String(json.revisionId) } : {}) }
      record({ kind: 'workflow-action', key: action.uid, action: 'created', id })
      continue
    }
    const id = String(existing.id)
    claimed.add(id)
    let revisionId = existing.revisionId
    let change: Action = 'unchanged'
    if (!containsJson(existing, body)) {
      const json = (await call('PATCH', `${actions}/${id}`, body)).json
      revisionId = json?.revisionId ?? revisionId
      change = 'updated'
    }
    workflowActions[action.uid] = { id, ...(revisionId !== undefined ? { revisionId: String(revisionId) } : {}) }
    record({ kind: 'workflow-action', key: action.uid, action: change, id })
  }

  // 4. Legacy timeline event templates (only with --legacy-timeline): matched by name.
  const timelineTemplates: Record<string, string> = {}
  if (options.legacyTimeline) {
    const templates = ((await call('GET', legacyTemplates)).json?.results ?? []) as Json[]
    for (const event of engagementEventTypes(m)) {
      const body = timelineEventTemplate(event)
      const storedId = previous?.timelineTemplates[event.kind]
      const existing = templates.find((t) => storedId !== undefined && String(t.id) === storedId) ?? templates.find((t) => t.name === body.name)
      if (!existing) {
        const id = idOf((await call('POST', legacyTemplates, body)).json, `timeline template ${event.kind}`)
        timelineTemplates[event.kind] = id
        record({ kind: 'timeline-template', key: event.kind, action: 'created', id })
        continue
      }
      const id = String(existing.id)
      timelineTemplates[event.kind] = id
      if (containsJson(existing, body)) {
        record({ kind: 'timeline-template', key: event.kind, action: 'unchanged', id })
      } else {
        await call('PUT', `${legacyTemplates}/${id}`, { id, ...body })
        record({ kind: 'timeline-template', key: event.kind, action: 'updated', id })
      }
    }
  }

  const counts: Record<Action, number> = { created: 0, updated: 0, unchanged: 0, reactivated: 0 }
  for (const c of changes) counts[c.action]++
  return {
    state: {
      appId,
      apiBase,
      publicUrl,
      provisionedAt: (options.now?.() ?? new Date()).toISOString(),
      webhooks: { targetUrl: settings.targetUrl, subscriptions: subscriptionIds },
      workflowActions,
      timelineTemplates: options.legacyTimeline ? timelineTemplates : (previous?.timelineTemplates ?? {}),
    },
    changes,
    counts,
    warnings,
  }
}

export function readProvisioningState(path: string): ProvisioningState | undefined {
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ProvisioningState
  } catch (error) {
    throw new ProvisionError(`${path} is not valid JSON: ${(error as Error).message}`)
  }
}

export function writeProvisioningState(path: string, state: ProvisioningState): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`)
}

export function formatResult(result: ProvisionResult, statePath: string): string {
  const lines = result.changes.map((c) => `${c.action.padEnd(11)} ${c.kind.padEnd(20)} ${c.key}${c.id ? `  (id ${c.id})` : ''}`)
  const { created, updated, reactivated, unchanged } = result.counts
  lines.push('', `${created} created, ${updated} updated, ${reactivated} reactivated, ${unchanged} unchanged — ids stored in ${statePath}`)
  for (const w of result.warnings) lines.push(`warning: ${w}`)
  lines.push('', JSON.stringify({ webhooks: result.state.webhooks, workflowActions: result.state.workflowActions, timelineTemplates: result.state.timelineTemplates }, null, 2))
  return lines.join('\n')
}

export interface CliIo {
  env: Record<string, string | undefined>
  log: (line: string) => void
  error: (line: string) => void
  fetch?: typeof fetch
}

/** The CLI: reads the environment (and .env), provisions, stores and prints the ids. */
export async function main(argv: string[] = process.argv.slice(2), io?: CliIo): Promise<number> {
  if (!io && existsSync('.env')) process.loadEnvFile('.env')
  const { env, log, error } = io ?? { env: process.env, log: console.log, error: console.error }
  const { values } = parseArgs({
    args: argv,
    options: {
      'legacy-timeline': { type: 'boolean', default: false },
      'state-file': { type: 'string' },
      'public-url': { type: 'string' },
      manifest: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    log('usage: npm run provision -- [--legacy-timeline] [--state-file data/hubspot-provisioning.json] [--public-url URL] [--manifest manifest.json]')
    log('environment: HUBSPOT_APP_ID, HUBSPOT_DEVELOPER_API_KEY, PUBLIC_URL, HUBSPOT_API_BASE (default https://api.hubapi.com); .env is read when present')
    return 0
  }
  const publicUrl = values['public-url'] ?? env.PUBLIC_URL
  const problems: string[] = []
  if (!env.HUBSPOT_APP_ID) problems.push('HUBSPOT_APP_ID is not set (the app id of your HubSpot public app)')
  if (!env.HUBSPOT_DEVELOPER_API_KEY) problems.push('HUBSPOT_DEVELOPER_API_KEY is not set (the developer API key of the account that owns the app)')
  if (!publicUrl) problems.push('PUBLIC_URL is not set (the https URL HubSpot reaches the connector at)')
  if (problems.length > 0) {
    error(`provision: cannot start:\n  - ${problems.join('\n  - ')}`)
    return 2
  }
  const statePath = resolve(values['state-file'] ?? env.HUBSPOT_PROVISIONING_FILE ?? 'data/hubspot-provisioning.json')
  try {
    const result = await provisionHubSpot({
      apiBase: env.HUBSPOT_API_BASE ?? 'https://api.hubapi.com',
      appId: env.HUBSPOT_APP_ID as string,
      developerApiKey: env.HUBSPOT_DEVELOPER_API_KEY as string,
      publicUrl: publicUrl as string,
      manifest: values.manifest ? loadManifest(values.manifest) : loadManifest(),
      legacyTimeline: values['legacy-timeline'],
      previous: readProvisioningState(statePath),
      ...(io?.fetch ? { fetch: io.fetch } : {}),
    })
    writeProvisioningState(statePath, result.state)
    log(formatResult(result, statePath))
    return 0
  } catch (e) {
    error(`provision failed: ${(e as Error).message}`)
    return 1
  }
}

if (import.meta.main) process.exitCode = await main()
