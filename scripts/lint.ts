import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

// Project rules a type checker cannot see (ARCHITECTURE.md, "Dependency direction"):
// - nothing reads ../shared (a user's clone has none);
// - imports run one way: routes and plugins → domain → db, crm-adapters, whatsapp. Domain modules
//   never import Fastify, routes, plugins, app or services; connector/db imports no domain;
// - crm-adapters/ never imports the connector, and the connector reaches a CRM's folder only
//   through the registry (crm-adapters/registry.ts) and the shared interfaces;
// - no branching on a CRM kind outside crm-adapters/: what differs per CRM lives in its provider.

// The tree to check: this repository, or the folder named on the command line (the lint's own test).
const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname)
const problems: string[] = []

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else if (/\.(ts|tsx|js|mjs|json|sh)$/.test(name) || name === 'run') yield path
  }
}

const HTTP_LAYER = /^connector\/(app\.ts|server\.ts|routes\/|plugins\/)/
const COMPOSITION = /^connector\/(app\.ts|server\.ts|services\.ts)$/
const CRM_SHARED = /^crm-adapters\/(crm-adapter|crm-provider|registry)\.ts$/
const CRM_KIND_TEST = /(?:[!=]==?\s*'(?:hubspot|salesforce)'|'(?:hubspot|salesforce)'\s*[!=]==?|case\s+'(?:hubspot|salesforce)'\s*:)/

/** Repository-relative paths of the modules a file imports with a relative specifier. */
function importsOf(rel: string, text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) out.push(relative(root, resolve(root, dirname(rel), m[1]!)))
  return out
}

for (const dir of ['connector', 'crm-adapters', 'test', 'scripts', 'ui-extensions', '.ci']) {
  let entries: Generator<string>
  try {
    statSync(join(root, dir))
    entries = files(join(root, dir))
  } catch {
    continue
  }
  for (const path of entries) {
    const rel = relative(root, path)
    if (rel === 'scripts/lint.ts') continue
    const text = readFileSync(path, 'utf8')
    if (/\.\.\/shared\b|\/work\/shared/.test(text)) problems.push(`${rel}: refers to ../shared, which a user's clone does not have`)
    if (!rel.endsWith('.ts')) continue
    const imports = importsOf(rel, text)
    if (rel.startsWith('connector/')) {
      const domain = !HTTP_LAYER.test(rel) && !COMPOSITION.test(rel)
      if (domain && /from '(fastify|@fastify\/[^']+)'/.test(text)) problems.push(`${rel}: a domain module imports Fastify; keep HTTP in routes/ and plugins/`)
      for (const target of imports) {
        if (domain && (/^connector\/(routes|plugins)\//.test(target) || COMPOSITION.test(target))) problems.push(`${rel}: a domain module imports ${target}; imports run from routes to the domain, not back`)
        if (rel.startsWith('connector/db/') && target.startsWith('connector/') && !/^connector\/(db\/|config\.ts$|observability\/)/.test(target)) problems.push(`${rel}: connector/db imports ${target}; the database layer knows no domain`)
        if (target.startsWith('crm-adapters/') && !CRM_SHARED.test(target)) problems.push(`${rel}: imports ${target}; reach a CRM through crm-adapters/registry.ts and its provider`)
      }
      text.split('\n').forEach((line, i) => {
        if (CRM_KIND_TEST.test(line)) problems.push(`${rel}:${i + 1}: branches on a CRM kind; put what differs per CRM in its provider (crm-adapters/<crm>/index.ts)`)
      })
    }
    if (rel.startsWith('crm-adapters/') && imports.some((t) => t.startsWith('connector/'))) {
      problems.push(`${rel}: an adapter imports the connector; adapters know nothing of it`)
    }
  }
}

if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log('lint: ok')
