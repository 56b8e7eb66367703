import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { absoluteUrl, engagementEventTypes, loadManifest } from '../../connector/manifest/manifest.ts'
import {
  checkHubSpotProject,
  DEFAULT_PUBLIC_URL,
  hubspotProjectFiles,
  isGeneratedPath,
  main,
  normalisePublicUrl,
  projectPublicUrl,
  writeHubSpotProject,
} from '../../scripts/generate-hubspot-project.ts'
import { hsproject } from '../../connector/manifest/hubspot-shapes.ts'

// The HubSpot developer project in ui-extensions/hubspot is partly generated from manifest.json.
// These tests regenerate it and fail when the checked-in files disagree, so nothing is hand-copied.

const root = new URL('../../', import.meta.url).pathname
const projectDir = join(root, 'ui-extensions/hubspot')
const m = loadManifest()
const sendWhatsAppAction = m.hubspot.workflowActions.find((a) => a.uid === 'send-whatsapp-template')!
const temps: string[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hubspot-project-'))
  temps.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true })
})

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return []
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>
/** The checked-in project was generated for this URL (the placeholder unless a user regenerated it). */
const publicUrl = projectPublicUrl(projectDir) ?? DEFAULT_PUBLIC_URL

describe('checked-in ui-extensions/hubspot', () => {
  test('is exactly what manifest.json generates (regenerated into a temp dir)', () => {
    const dir = tempDir()
    writeHubSpotProject(dir, hubspotProjectFiles(m, publicUrl))
    const generated = listFiles(dir).map((p) => relative(dir, p).split(sep).join('/')).sort()
    expect(generated.length).toBeGreaterThan(10)
    for (const path of generated) {
      const checkedIn = join(projectDir, path)
      expect(existsSync(checkedIn), `${path} is generated but not checked in — run npm run generate:hubspot`).toBe(true)
      expect(readFileSync(checkedIn, 'utf8'), `${path} differs from manifest.json — run npm run generate:hubspot`).toBe(readFileSync(join(dir, path), 'utf8'))
    }
  })

  test('has no missing, different or stale generated files', () => {
    expect(checkHubSpotProject(projectDir, hubspotProjectFiles(m, publicUrl))).toEqual([])
  })

  test('was generated for an https URL', () => {
    expect(publicUrl).toMatch(/^https:\/\//)
  })

  test('keeps hand-written files out of the generator', () => {
    for (const path of ['src/app/cards/WhatsAppCard.tsx', 'src/app/cards/package.json', 'README.md']) {
      expect(existsSync(join(projectDir, path)), path).toBe(true)
      expect(isGeneratedPath(path), path).toBe(false)
    }
    for (const path of hubspotProjectFiles(m).keys()) expect(isGeneratedPath(path), path).toBe(true)
  })
})

describe('generated files', () => {
  const url = 'https://wa.acme.example/connector'
  const files = hubspotProjectFiles(m, `${url}/`)
  const json = (path: string) => {
    const text = files.get(path)
    if (text === undefined) throw new Error(`${path} is not generated`)
    return JSON.parse(text) as Record<string, any>
  }

  test('hsproject.json points at src with the manifest platform version', () => {
    expect(json('hsproject.json')).toEqual({ name: m.hubspot.project.name, srcDir: 'src', platformVersion: '2026.03' })
    const older = { ...m, hubspot: { ...m.hubspot, project: { ...m.hubspot.project, platformVersion: '2025.2' } } }
    expect(() => hsproject(older)).toThrow(/older than 2026\.03/)
  })

  test('app-hsmeta.json: marketplace OAuth app with the manifest scopes, redirect URL and permitted fetch URL', () => {
    const app = json('src/app/app-hsmeta.json')
    expect(app).toMatchObject({ uid: m.app.uid, type: 'app' })
    expect(app.config.distribution).toBe('marketplace')
    expect(app.config.auth).toEqual({
      type: 'oauth',
      redirectUrls: [`${url}/oauth/hubspot/callback`],
      requiredScopes: m.hubspot.requiredScopes,
      optionalScopes: m.hubspot.optionalScopes,
      conditionallyRequiredScopes: [],
    })
    expect(app.config.permittedUrls.fetch).toEqual([url])
    expect(app.config.support.supportEmail).toBe(m.app.supportEmail)
  })

  test('webhooks-hsmeta.json: target URL and every subscription in its group', () => {
    const hooks = json('src/app/webhooks/webhooks-hsmeta.json')
    expect(hooks.config.settings).toEqual({ targetUrl: `${url}/webhooks/hubspot`, maxConcurrentRequests: m.hubspot.webhooks.maxConcurrentRequests })
    const legacy = hooks.config.subscriptions.legacyCrmObjects as { subscriptionType: string; propertyName?: string; active: boolean }[]
    expect(legacy.filter((s) => s.subscriptionType === 'contact.propertyChange').map((s) => s.propertyName).sort()).toEqual(['hs_whatsapp_phone_number', 'mobilephone', 'phone', 'whatsapp_opt_in'])
    expect(legacy).toContainEqual({ subscriptionType: 'contact.deletion', active: true })
    expect(hooks.config.subscriptions.hubEvents).toEqual([{ subscriptionType: 'contact.privacyDeletion', active: true }])
  })

  test('one app-event file per engagement kind, templates and properties from the manifest', () => {
    const eventFiles = [...files.keys()].filter((p) => p.startsWith('src/app/app-events/'))
    expect(eventFiles.sort()).toEqual(engagementEventTypes(m).map((e) => `src/app/app-events/${e.kind}-hsmeta.json`).sort())
    for (const event of engagementEventTypes(m)) {
      const file = json(`src/app/app-events/${event.kind}-hsmeta.json`)
      expect(file).toEqual({
        uid: event.name,
        type: 'app-event',
        config: {
          name: event.label,
          objectType: 'CONTACT',
          headerTemplate: event.headerTemplate,
          detailTemplate: event.detailTemplate,
          properties: event.properties.map((p) => ({ name: p.name, label: p.label, type: p.type })),
        },
      })
    }
  })

  test('workflow action: action URL, options URL and inputs from the manifest', () => {
    const action = sendWhatsAppAction
    const file = json(`src/app/workflow-actions/${action.uid}-hsmeta.json`)
    expect(file).toMatchObject({ uid: 'send-whatsapp-template', type: 'workflow-action' })
    expect(file.config).toMatchObject({
      actionUrl: `${url}/hubspot/actions/send-whatsapp`,
      isPublished: true,
      supportedClients: [{ client: 'WORKFLOWS' }],
      objectTypes: ['CONTACT'],
      objectRequestOptions: action.objectRequestOptions,
    })
    const inputs = file.config.inputFields as { typeDefinition: Record<string, unknown>; isRequired: boolean }[]
    expect(inputs.map((f) => f.typeDefinition.name)).toEqual(action.inputFields.map((f) => f.typeDefinition.name))
    expect(inputs[0]?.typeDefinition).toEqual({ name: 'template_name', type: 'enumeration', fieldType: 'select', optionsUrl: `${url}/hubspot/actions/send-whatsapp/options` })
    expect(file.config.labels.en.actionName).toBe('Send WhatsApp template')
    expect(JSON.stringify(file)).not.toContain('optionsPath')
  })

  test('card: hsmeta from the manifest, connector URL module for the React card', () => {
    for (const card of m.hubspot.cards) {
      expect(json(`src/app/cards/${card.uid}-hsmeta.json`)).toEqual({
        uid: card.uid,
        type: 'card',
        config: { name: card.name, description: card.description, location: card.location, entrypoint: card.entrypoint, objectTypes: card.objectTypes },
      })
      expect(existsSync(join(projectDir, 'src', card.entrypoint)), `${card.entrypoint} (hand-written) exists`).toBe(true)
    }
    const module = files.get('src/app/cards/connector.generated.ts') ?? ''
    expect(module).toContain(`export const CONNECTOR_URL = ${JSON.stringify(url)};`)
    expect(module).toContain(`export const WHATSAPP_CARD_URL = ${JSON.stringify(absoluteUrl(url, '/cards/hubspot/contact'))};`)
  })

  test('refuses a public URL that is not http(s)', () => {
    expect(() => normalisePublicUrl('connector.example.com')).toThrow(/--public-url/)
    expect(normalisePublicUrl('https://x.example/')).toBe('https://x.example')
  })
})

describe('the React card', () => {
  const card = readFileSync(join(projectDir, 'src/app/cards/WhatsAppCard.tsx'), 'utf8')

  test('uses only @hubspot/ui-extensions (and React) and hubspot.fetch, never browser fetch', () => {
    const imports = [...card.matchAll(/from '([^']+)'/g)].map((match) => match[1])
    expect(imports.sort()).toEqual(['./connector.generated', '@hubspot/ui-extensions', 'react'])
    expect(card).toContain('hubspot.fetch(')
    expect(card.replaceAll('hubspot.fetch(', '')).not.toMatch(/\bfetch\(|XMLHttpRequest|document\.|window\./)
    expect(card).toMatch(/hubspot\.extend<'crm\.record\.tab'>/)
  })

  test('calls the card endpoint of the connector with the contact id and handles loading and errors', () => {
    expect(card).toContain('WHATSAPP_CARD_URL')
    expect(card).toContain('contactId=')
    expect(card).toContain('<LoadingSpinner')
    expect(card).toContain('<ErrorState')
    expect(card).toContain('<EmptyState')
  })

  test('its entrypoint is the one the card hsmeta names', () => {
    const entry = m.hubspot.cards.map((c) => c.entrypoint)
    expect(entry).toContain('/app/cards/WhatsAppCard.tsx')
    const pkg = readJson(join(projectDir, 'src/app/cards/package.json'))
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@hubspot/ui-extensions', 'react'])
  })
})

describe('scripts/generate-hubspot-project.ts', () => {
  test('writes into an empty dir, then reports nothing to do, and removes stale generated files only', () => {
    const dir = tempDir()
    const files = hubspotProjectFiles(m, 'https://c.example')
    expect(writeHubSpotProject(dir, files).written).toHaveLength(files.size)
    expect(writeHubSpotProject(dir, files)).toEqual({ written: [], removed: [] })
    mkdirSync(join(dir, 'src/app/app-events'), { recursive: true })
    writeFileSync(join(dir, 'src/app/app-events/clicked-hsmeta.json'), '{}\n')
    writeFileSync(join(dir, 'src/app/cards/Other.tsx'), '// hand-written\n')
    expect(checkHubSpotProject(dir, files)).toEqual(['src/app/app-events/clicked-hsmeta.json: stale (manifest.json no longer generates it)'])
    expect(writeHubSpotProject(dir, files)).toEqual({ written: [], removed: ['src/app/app-events/clicked-hsmeta.json'] })
    expect(existsSync(join(dir, 'src/app/cards/Other.tsx'))).toBe(true)
  })

  test('a different public URL changes only the files that carry it', () => {
    const a = hubspotProjectFiles(m, 'https://a.example')
    const b = hubspotProjectFiles(m, 'https://b.example')
    const changed = [...a.keys()].filter((k) => a.get(k) !== b.get(k)).sort()
    expect(changed).toEqual([
      'src/app/app-hsmeta.json',
      'src/app/cards/connector.generated.ts',
      'src/app/webhooks/webhooks-hsmeta.json',
      `src/app/workflow-actions/${sendWhatsAppAction.uid}-hsmeta.json`,
    ])
  })

  test('the CLI --check passes on the checked-in project and fails on a drifted copy', () => {
    const log = console.log
    const error = console.error
    const lines: string[] = []
    console.log = (line: string) => lines.push(line)
    console.error = (line: string) => lines.push(line)
    try {
      expect(main(['--check', '--out', projectDir])).toBe(0)
      const dir = tempDir()
      writeHubSpotProject(dir, hubspotProjectFiles(m, publicUrl))
      const appFile = join(dir, 'src/app/app-hsmeta.json')
      const app = readJson(appFile)
      app.config.auth.requiredScopes.push('crm.lists.write')
      writeFileSync(appFile, JSON.stringify(app, null, 2))
      expect(main(['--check', '--out', dir])).toBe(1)
      expect(lines.join('\n')).toContain('src/app/app-hsmeta.json: differs from what manifest.json generates')
    } finally {
      console.log = log
      console.error = error
    }
  })
})
