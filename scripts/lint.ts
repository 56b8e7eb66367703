import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

// Project rules a type checker cannot see (ARCHITECTURE.md, "Dependency direction"):
// - nothing reads ../shared (a user's clone has none);
// - domain modules in connector/ never import Fastify; only app, server, routes and plugins do;
// - crm-adapters/ never imports the connector.

const root = new URL('..', import.meta.url).pathname
const problems: string[] = []

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else if (/\.(ts|tsx|js|mjs|json|sh)$/.test(name) || name === 'run') yield path
  }
}

const HTTP_LAYER = /^connector\/(app\.ts|server\.ts|services\.ts|routes\/|plugins\/)/

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
    if (rel.startsWith('connector/') && !HTTP_LAYER.test(rel) && /from '(fastify|@fastify\/[^']+)'/.test(text)) {
      problems.push(`${rel}: a domain module imports Fastify; keep HTTP in routes/ and plugins/`)
    }
    if (rel.startsWith('crm-adapters/') && /from '\.\.\/(\.\.\/)*connector\//.test(text)) {
      problems.push(`${rel}: an adapter imports the connector; adapters know nothing of it`)
    }
  }
}

if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log('lint: ok')
