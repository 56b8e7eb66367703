import { loadManifest } from '../../connector/manifest/manifest.ts'
import type { HubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'

// What a simulated portal holds of the app's contact properties (manifest.json
// hubspot.properties), read through the simulator's properties API with a token of its own.

export interface PortalProperty {
  type: string
  groupName: string
}

/** The portal's contact properties by name, and its property group names. */
export async function portalProperties(sim: HubSpotSimulator, portalId: number): Promise<{ properties: Map<string, PortalProperty>; groups: string[] }> {
  const { access_token: token } = sim.install({ portalId })
  const get = async (path: string) => {
    const response = await fetch(`${sim.url}/crm/properties/2026-03/contacts${path}`, { headers: { authorization: `Bearer ${token}` } })
    if (response.status !== 200) throw new Error(`GET properties${path}: ${response.status} ${await response.text()}`)
    return ((await response.json()) as { results: Array<Record<string, string>> }).results
  }
  const properties = new Map((await get('')).map((p) => [p.name!, { type: p.type!, groupName: p.groupName! }]))
  return { properties, groups: (await get('/groups')).map((g) => g.name!) }
}

/** The manifest's app properties (name → type), as the install creates them. */
export function appPropertyTypes(): Record<string, string> {
  return Object.fromEntries(loadManifest().hubspot.properties.contact.map((p) => [p.name, p.type]))
}

/** Each app property's type in the portal (undefined where missing). */
export async function appPropertiesIn(sim: HubSpotSimulator, portalId: number): Promise<Record<string, string | undefined>> {
  const { properties } = await portalProperties(sim, portalId)
  return Object.fromEntries(Object.keys(appPropertyTypes()).map((name) => [name, properties.get(name)?.type]))
}
