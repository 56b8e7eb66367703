import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { parseArgs } from 'node:util'
import { absoluteUrl, loadManifest, type Manifest } from '../connector/manifest/manifest.ts'
import {
  appEventHsmeta,
  appHsmeta,
  cardHsmeta,
  hsproject,
  webhooksHsmeta,
  workflowActionHsmeta,
} from '../connector/manifest/hubspot-shapes.ts'

// `npm run generate:hubspot -- --public-url https://connector.acme.com`
// Writes the parts of ui-extensions/hubspot/ that derive from manifest.json (the HubSpot developer
// project's *-hsmeta.json files, hsproject.json and the card's connector URL module). Hand-written
// files (the React card, its package.json, the README) are never touched. `--check` compares
// instead of writing and exits 1 on any difference (test/unit/hubspot-project.test.ts does the same).

export const DEFAULT_PUBLIC_URL = 'https://connector.example.com'
export const DEFAULT_OUT_DIR = new URL('../ui-extensions/hubspot/', import.meta.url).pathname

/** Directories that hold nothing but generated files: anything else in them is stale. */
const GENERATED_DIRS = ['src/app/app-events', 'src/app/webhooks', 'src/app/workflow-actions']

/** Whether a project-relative path (with `/`) is one the generator owns. */
export function isGeneratedPath(path: string): boolean {
  if (path === 'hsproject.json' || path === 'src/app/app-hsmeta.json') return true
  if (GENERATED_DIRS.some((dir) => path.startsWith(`${dir}/`))) return true
  return path.startsWith('src/app/cards/') && !path.slice('src/app/cards/'.length).includes('/') && /(-hsmeta\.json|\.generated\.ts)$/.test(path)
}

export function normalisePublicUrl(url: string): string {
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) throw new Error(`--public-url must be an http(s) URL, got ${JSON.stringify(url)}`)
  return url.replace(/\/+$/, '')
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

function cardModule(m: Manifest, publicUrl: string): string {
  const lines = [
    '// Generated from manifest.json by scripts/generate-hubspot-project.ts — do not edit.',
    '// Regenerate with `npm run generate:hubspot -- --public-url <your connector URL>`.',
    '',
    '/** The connector\'s PUBLIC_URL (also listed in app-hsmeta.json permittedUrls.fetch). */',
    `export const CONNECTOR_URL = ${JSON.stringify(publicUrl)};`,
    '',
  ]
  for (const card of m.hubspot.cards) {
    const name = `${card.uid.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}_URL`
    lines.push(`/** GET endpoint of the ${card.uid} card. */`, `export const ${name} = ${JSON.stringify(absoluteUrl(publicUrl, card.path))};`, '')
  }
  return lines.join('\n')
}

/** Every generated file (project-relative path → content) for this manifest and public URL. */
export function hubspotProjectFiles(m: Manifest, publicUrl: string = DEFAULT_PUBLIC_URL): Map<string, string> {
  const url = normalisePublicUrl(publicUrl)
  const files = new Map<string, string>()
  files.set('hsproject.json', json(hsproject(m)))
  files.set('src/app/app-hsmeta.json', json(appHsmeta(m, url)))
  files.set('src/app/webhooks/webhooks-hsmeta.json', json(webhooksHsmeta(m, url)))
  for (const action of m.hubspot.workflowActions) files.set(`src/app/workflow-actions/${action.uid}-hsmeta.json`, json(workflowActionHsmeta(action, url)))
  for (const event of m.hubspot.engagementEvents) files.set(`src/app/app-events/${event.kind}-hsmeta.json`, json(appEventHsmeta(event)))
  for (const card of m.hubspot.cards) files.set(`src/app/cards/${card.uid}-hsmeta.json`, json(cardHsmeta(card)))
  if (m.hubspot.cards.length > 0) files.set('src/app/cards/connector.generated.ts', cardModule(m, url))
  return files
}

function listFiles(dir: string, base = dir): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return []
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path, base) : [relative(base, path).split(sep).join('/')]
  })
}

/** Differences between a project directory and the expected files: missing, different, stale. */
export function checkHubSpotProject(outDir: string, files: Map<string, string>): string[] {
  const problems: string[] = []
  for (const [path, content] of files) {
    let actual: string
    try {
      actual = readFileSync(join(outDir, path), 'utf8')
    } catch {
      problems.push(`${path}: missing`)
      continue
    }
    if (actual !== content) problems.push(`${path}: differs from what manifest.json generates`)
  }
  for (const path of listFiles(outDir)) {
    if (isGeneratedPath(path) && !files.has(path)) problems.push(`${path}: stale (manifest.json no longer generates it)`)
  }
  return problems
}

/** Writes the files and removes stale generated ones; returns what changed. */
export function writeHubSpotProject(outDir: string, files: Map<string, string>): { written: string[]; removed: string[] } {
  const written: string[] = []
  const removed: string[] = []
  for (const [path, content] of files) {
    const target = join(outDir, path)
    let current: string | undefined
    try {
      current = readFileSync(target, 'utf8')
    } catch {
      current = undefined
    }
    if (current === content) continue
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, content)
    written.push(path)
  }
  for (const path of listFiles(outDir)) {
    if (isGeneratedPath(path) && !files.has(path)) {
      rmSync(join(outDir, path))
      removed.push(path)
    }
  }
  return { written, removed }
}

/** The public URL a generated project was made for (from app-hsmeta.json), if it has one. */
export function projectPublicUrl(outDir: string): string | undefined {
  try {
    const app = JSON.parse(readFileSync(join(outDir, 'src/app/app-hsmeta.json'), 'utf8')) as { config?: { permittedUrls?: { fetch?: unknown[] } } }
    const url = app.config?.permittedUrls?.fetch?.[0]
    return typeof url === 'string' ? url : undefined
  } catch {
    return undefined
  }
}

export function main(argv: string[] = process.argv.slice(2)): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      'public-url': { type: 'string' },
      out: { type: 'string' },
      manifest: { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log('usage: node scripts/generate-hubspot-project.ts [--public-url https://connector.example.com] [--out ui-extensions/hubspot] [--manifest manifest.json] [--check]')
    return 0
  }
  const outDir = values.out ?? DEFAULT_OUT_DIR
  const m = values.manifest ? loadManifest(values.manifest) : loadManifest()
  // --check without --public-url compares against the URL the project was generated for.
  const publicUrl = values['public-url'] ?? (values.check ? projectPublicUrl(outDir) : undefined) ?? DEFAULT_PUBLIC_URL
  const files = hubspotProjectFiles(m, publicUrl)
  if (values.check) {
    const problems = checkHubSpotProject(outDir, files)
    if (problems.length > 0) {
      console.error(`${relative(process.cwd(), outDir) || '.'} is out of date with manifest.json (public URL ${publicUrl}):\n  ${problems.join('\n  ')}\nRun: npm run generate:hubspot -- --public-url ${publicUrl}`)
      return 1
    }
    console.log(`hubspot project matches manifest.json (${files.size} generated files, public URL ${publicUrl})`)
    return 0
  }
  const { written, removed } = writeHubSpotProject(outDir, files)
  for (const path of written) console.log(`wrote   ${path}`)
  for (const path of removed) console.log(`removed ${path}`)
  console.log(`${written.length} written, ${removed.length} removed, ${files.size - written.length} unchanged — public URL ${publicUrl}`)
  if (!publicUrl.startsWith('https://')) console.warn('warning: HubSpot requires https for webhook, workflow action and app card URLs')
  else if (publicUrl === DEFAULT_PUBLIC_URL) console.warn(`note: ${DEFAULT_PUBLIC_URL} is a placeholder; pass --public-url with your connector's PUBLIC_URL before \`hs project upload\``)
  return 0
}

if (import.meta.main) {
  try {
    process.exitCode = main()
  } catch (error) {
    console.error((error as Error).message)
    process.exitCode = 2
  }
}
