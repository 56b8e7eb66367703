// In-memory Graph objects: phone numbers, their WABAs, and each WABA's message templates.
import type { NumberInput, QualityRating, TemplateInput } from './types.ts'

export interface PhoneNumber {
  id: string
  wabaId: string
  accessToken: string
  displayPhoneNumber: string
  verifiedName: string
  messagesPerSecond: number
  qualityRating: QualityRating
}

/** The business portfolio of every WABA that does not name another. */
export const SIMULATED_PORTFOLIO_ID = '770000000000001'

export interface Template {
  id: string
  name: string
  language: string
  status: string
  category: string
  parameter_format: 'POSITIONAL' | 'NAMED'
  components: unknown[]
}

export interface Waba {
  id: string
  businessPortfolioId: string
  numbers: PhoneNumber[]
  templates: Template[]
}

export class Registry {
  private readonly numbers = new Map<string, PhoneNumber>()
  private readonly wabas = new Map<string, Waba>()
  private templateSeq = 0

  addNumber(n: NumberInput): PhoneNumber {
    const number: PhoneNumber = {
      id: n.phoneNumberId,
      wabaId: n.wabaId,
      accessToken: n.accessToken,
      displayPhoneNumber: n.displayPhoneNumber,
      verifiedName: n.verifiedName ?? 'Simulated Business',
      messagesPerSecond: n.messagesPerSecond ?? 80,
      qualityRating: n.qualityRating ?? 'GREEN',
    }
    // Re-adding a number replaces it (and moves it if its WABA changed).
    const previous = this.numbers.get(number.id)
    if (previous) {
      const old = this.wabaEntry(previous.wabaId)
      old.numbers = old.numbers.filter((p) => p.id !== number.id)
    }
    this.numbers.set(number.id, number)
    const waba = this.wabaEntry(number.wabaId)
    if (n.businessPortfolioId) waba.businessPortfolioId = n.businessPortfolioId
    waba.numbers.push(number)
    return number
  }

  addTemplate(wabaId: string, t: TemplateInput): Template {
    const template: Template = {
      id: t.id ?? String(1_000_000_000_000_000 + ++this.templateSeq), // numeric like Graph ids
      name: t.name,
      language: t.language,
      status: t.status ?? 'APPROVED',
      category: t.category ?? 'MARKETING',
      parameter_format: usesNamedPlaceholders(t.components ?? []) ? 'NAMED' : 'POSITIONAL',
      components: t.components ?? [],
    }
    const waba = this.wabaEntry(wabaId)
    // Name + language identify a template; adding it again replaces it (e.g. to change its status).
    waba.templates = waba.templates.filter((x) => !(x.name === template.name && x.language === template.language))
    waba.templates.push(template)
    return template
  }

  number(id: string): PhoneNumber | undefined {
    return this.numbers.get(id)
  }

  /** A WABA exists for Graph purposes once it has a number (that is where its tokens come from). */
  waba(id: string): Waba | undefined {
    const waba = this.wabas.get(id)
    return waba && waba.numbers.length > 0 ? waba : undefined
  }

  isKnownToken(token: string): boolean {
    for (const n of this.numbers.values()) if (n.accessToken === token) return true
    return false
  }

  private wabaEntry(id: string): Waba {
    let waba = this.wabas.get(id)
    if (!waba) this.wabas.set(id, (waba = { id, businessPortfolioId: SIMULATED_PORTFOLIO_ID, numbers: [], templates: [] }))
    return waba
  }
}

/** Distinct `{{n}}` / `{{name}}` placeholders in a text, in first-seen order. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1] ?? ''))]
}

/** Text of the template's BODY component ('' when it has none). */
export function bodyText(components: unknown[]): string {
  for (const c of components) {
    if (isRecord(c) && String(c['type']).toUpperCase() === 'BODY' && typeof c['text'] === 'string') return c['text']
  }
  return ''
}

function usesNamedPlaceholders(components: unknown[]): boolean {
  return placeholders(bodyText(components)).some((p) => !/^\d+$/.test(p))
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
