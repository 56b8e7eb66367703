import { randomBytes } from 'node:crypto'
import { buildApp } from '../connector/app.ts'
import { loadConfig } from '../connector/config.ts'
import { startGraphSimulator } from '../test/simulators/graph/graph-simulator.ts'
import { startHubSpotSimulator } from '../test/simulators/hubspot/hubspot-simulator.ts'

// `npm run sandbox`: the whole product on one machine, with no accounts. Starts the Graph API and
// HubSpot simulators and the connector (embedded PGlite in ./data/sandbox), installs the app in a
// simulated HubSpot portal, syncs a list into a WhatsApp segment, connects a WhatsApp number, sends
// a template and follows it, opts a person out, and prints each step; then stays up so you can
// explore /docs and the API.

const PORT = Number(process.env.PORT ?? 3000)
const adminToken = process.env.ADMIN_TOKEN ?? `sandbox-${randomBytes(12).toString('hex')}`
const appSecret = 'sandbox-app-secret'
// A new recipient each run: ./data/sandbox keeps consent from earlier runs.
const ada = `+491512345${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`
const number = { phoneNumberId: '106540352242922', wabaId: '102290129340398', accessToken: 'EAAG-sandbox-token-0001', displayPhoneNumber: '+1 555-078-3881' }

const graph = await startGraphSimulator({ appSecret })
graph.addNumber({ ...number, verifiedName: 'Sandbox Outdoor Co', messagesPerSecond: 80 })
graph.addTemplate(number.wabaId, { name: 'spring_sale', language: 'en_US', category: 'MARKETING', components: [{ type: 'BODY', text: 'Hi {{1}}, take {{2}} off everything this week.' }, { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Stop promotions' }] }] })

const hubspot = await startHubSpotSimulator()
const portalId = hubspot.portals()[0]!.portalId
hubspot.setAutoConsent({ portalId })
const list = hubspot.seed({ portalId, contacts: 500, lists: [{ name: 'Spring customers', size: 200, processingType: 'MANUAL' }] }).lists[0]!
const hubspotApp = hubspot.apps()[0]!

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'development',
  PORT: String(PORT),
  DATA_DIR: process.env.DATA_DIR ?? './data/sandbox',
  ADMIN_TOKEN: adminToken,
  // A local sandbox: the API docs open without a token.
  DOCS_PUBLIC: 'true',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  WHATSAPP_APP_SECRET: appSecret,
  WHATSAPP_VERIFY_TOKEN: 'sandbox-verify-token',
  WHATSAPP_GRAPH_URL: graph.url,
  HUBSPOT_CLIENT_ID: hubspotApp.clientId,
  HUBSPOT_CLIENT_SECRET: hubspotApp.clientSecret,
  HUBSPOT_APP_ID: String(hubspotApp.appId),
  HUBSPOT_API_BASE: hubspot.url,
  HUBSPOT_AUTH_URL: `${hubspot.url}/oauth/authorize`,
})
const app = await buildApp(config)
await app.listen({ port: PORT, host: config.host })
graph.setWebhookUrl(`${config.publicUrl}/webhooks/whatsapp`)

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${config.publicUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
  return { status: res.status, json: (await res.json()) as any }
}

console.log(`connector    ${config.publicUrl}  (API docs: ${config.publicUrl}/docs)`)
console.log(`admin token  ${adminToken}`)
console.log(`graph sim    ${graph.url}  (control: ${graph.url}/_sim/stats)`)
console.log(`hubspot sim  ${hubspot.url}  (control: ${hubspot.url}/_sim/stats)`)

// The admin's browser: install → HubSpot consent → callback.
let location: string | null = `${config.publicUrl}/oauth/hubspot/install`
let page = ''
while (location) {
  const res: Response = await fetch(location, { redirect: 'manual' })
  location = res.headers.get('location') ? new URL(res.headers.get('location')!, location).toString() : null
  page = await res.text()
}
const installation = (await api('GET', '/installations')).json.find((i: { crm: string }) => i.crm === 'hubspot')
console.log(`0. installed the app in HubSpot portal ${installation?.accountId}: ${page.includes('installed') ? 'ok' : 'failed'}`)
const segment = await api('POST', '/segments', {
  installationId: installation.id, name: 'Spring customers on WhatsApp', source: { type: 'hubspot_list', id: list.listId },
  phoneProperties: ['mobilephone', 'phone'], defaultCountry: 'US', consentProperty: 'whatsapp_opt_in', copyProperties: ['firstname'],
})
const sync = await api('POST', `/segments/${segment.json.id}/sync?wait=true`)
const counts = (await api('GET', `/segments/${segment.json.id}`)).json.counts
console.log(`   synced list "${list.name}": ${sync.json.added} members in ${sync.json.crmCalls} HubSpot calls; reachable ${counts.reachable}, opted out ${counts.optedOut}, no consent ${counts.noConsent}, invalid phones ${counts.invalidPhone}`)

const connected = await api('POST', '/whatsapp-numbers', { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: number.accessToken })
console.log(`1. connected WhatsApp number ${connected.json.displayPhoneNumber} (${connected.status})`)
// spring_sale is a marketing template: it goes only to people who opted in, so Ada opts in first.
await api('POST', '/consent', { phone: ada, state: 'opted_in', evidence: { note: 'Ticked the WhatsApp box at checkout (sandbox)' } })
const sent = await api('POST', '/messages', { numberId: connected.json.id, to: ada, template: { name: 'spring_sale', language: 'en_US' }, bodyParameters: ['Ada', '25%'], idempotencyKey: `sandbox-${Date.now()}` })
console.log(`2. queued template spring_sale to Ada (…${ada.slice(-4)}): message ${sent.json.id}`)
let last = ''
for (let i = 0; i < 100 && last !== 'read'; i++) {
  await new Promise((r) => setTimeout(r, 100))
  const m = await api('GET', `/messages/${sent.json.id}`)
  if (m.json.status !== last) {
    last = m.json.status
    console.log(`   status ${last}${m.json.wamid ? ` (${m.json.wamid.slice(0, 24)}…)` : ''}`)
  }
}
await graph.sendWebhook({
  object: 'whatsapp_business_account',
  entry: [{ id: number.wabaId, changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: number.phoneNumberId },
    contacts: [{ profile: { name: 'Ada' }, wa_id: ada.slice(1) }],
    // Meta's timestamps are whole seconds; rounding up keeps the STOP after the opt-in of this same second.
    messages: [{ from: ada.slice(1), id: `wamid.sandbox-stop-${Date.now()}`, timestamp: String(Math.ceil(Date.now() / 1000)), type: 'text', text: { body: 'STOP' } }],
  } }] }],
})
let consent = await api('GET', `/consent?phone=${encodeURIComponent(ada)}`)
for (let i = 0; i < 50 && consent.json.state !== 'opted_out'; i++) {
  await new Promise((r) => setTimeout(r, 100))
  consent = await api('GET', `/consent?phone=${encodeURIComponent(ada)}`)
}
console.log(`3. Ada replied STOP: consent is now ${consent.json.state} (source ${consent.json.events[0]?.source})`)
const refused = await api('POST', '/messages', { numberId: connected.json.id, to: ada, template: { name: 'spring_sale', language: 'en_US' }, bodyParameters: ['Ada', '25%'] })
console.log(`4. a new send to Ada is refused: ${refused.status} ${refused.json.code}`)
console.log('\nThe sandbox keeps running; press Ctrl+C to stop.')

const stop = async () => {
  await app.close()
  await graph.close()
  await hubspot.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
