import { startGraphSimulator } from './graph/graph-simulator.ts'
import { startHubSpotSimulator } from './hubspot/hubspot-simulator.ts'
import { startSalesforceSimulator } from './salesforce/salesforce-simulator.ts'

// `npm run simulator -- <graph|hubspot|salesforce> [--port N]`: one simulator alone, driven
// through its /_sim control API (see the README next to each simulator).

const [name, ...rest] = process.argv.slice(2)
const portFlag = rest.indexOf('--port')
const port = portFlag >= 0 ? Number(rest[portFlag + 1]) : 0
const host = '127.0.0.1'

async function start(): Promise<{ url: string; close(): Promise<void> }> {
  switch (name) {
    case 'graph':
      return startGraphSimulator({ appSecret: process.env.WHATSAPP_APP_SECRET ?? 'simulator-app-secret', webhookUrl: process.env.WEBHOOK_URL, port, host })
    case 'hubspot':
      return startHubSpotSimulator({ port, host })
    case 'salesforce':
      return startSalesforceSimulator({ port, host })
    default:
      console.error('usage: npm run simulator -- <graph|hubspot|salesforce> [--port N]')
      process.exit(2)
  }
}

const sim = await start()
console.log(`${name} simulator listening on ${sim.url} (control API under ${sim.url}/_sim)`)
const stop = async () => {
  await sim.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
