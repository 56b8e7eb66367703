import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, test } from 'vitest'

// npm run lint on small trees: each rule fails on the file that breaks it, and the repository passes.

const script = new URL('../../scripts/lint.ts', import.meta.url).pathname

function lint(files: Record<string, string>): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lint-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  try {
    return { ok: true, output: execFileSync(process.execPath, [script, dir], { encoding: 'utf8', stdio: 'pipe' }) }
  } catch (error) {
    return { ok: false, output: String((error as { stderr: string }).stderr) }
  }
}

describe('npm run lint', () => {
  test('the repository follows its rules', () => {
    expect(execFileSync(process.execPath, [script], { encoding: 'utf8' })).toContain('lint: ok')
  })

  test('a branch on a CRM kind outside crm-adapters/ fails', () => {
    const r = lint({ 'connector/segments/x.ts': "export const f = (crm: string) => { if (crm === 'hubspot') return 1; return 2 }\n" })
    expect(r.ok).toBe(false)
    expect(r.output).toMatch(/connector\/segments\/x\.ts:1: branches on a CRM kind/)
    expect(lint({ 'crm-adapters/hubspot/x.ts': "export const f = (crm: string) => crm === 'hubspot'\n" }).ok).toBe(true)
  })

  test('a switch case on a CRM kind fails too', () => {
    expect(lint({ 'connector/consent/x.ts': "switch (k) {\n  case 'salesforce':\n}\n" }).output).toMatch(/x\.ts:2: branches on a CRM kind/)
  })

  test('a domain module importing routes, Fastify or one CRM folder fails', () => {
    expect(lint({ 'connector/segments/x.ts': "import { r } from '../routes/api/segments.ts'\n" }).output).toMatch(/imports connector\/routes\/api\/segments\.ts/)
    expect(lint({ 'connector/segments/x.ts': "import Fastify from 'fastify'\n" }).output).toMatch(/imports Fastify/)
    expect(lint({ 'connector/segments/x.ts': "import { HubSpotAdapter } from '../../crm-adapters/hubspot/hubspot-adapter.ts'\n" }).output).toMatch(/reach a CRM through crm-adapters\/registry\.ts/)
    expect(lint({ 'connector/segments/x.ts': "import type { CrmAdapter } from '../../crm-adapters/crm-adapter.ts'\n" }).ok).toBe(true)
  })

  test('the database layer importing a domain, and an adapter importing the connector, fail', () => {
    expect(lint({ 'connector/db/x.ts': "import { s } from '../segments/segment-sync.ts'\n" }).output).toMatch(/database layer knows no domain/)
    expect(lint({ 'crm-adapters/hubspot/x.ts': "import { db } from '../../connector/db/database.ts'\n" }).output).toMatch(/an adapter imports the connector/)
  })

  test('a reference to the steering folder fails', () => {
    expect(lint({ 'test/x.ts': `const f = '../${'shared'}/fixtures/a.json'\n` }).output).toMatch(/refers to \.\.\/shared/)
  })
})
