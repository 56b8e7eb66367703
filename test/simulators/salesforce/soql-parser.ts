import { SfError } from './errors.ts'

// Parser for the SOQL subset the connector uses. Syntax errors become MALFORMED_QUERY with the
// "ERROR at Row:R:Column:C" prefix Salesforce puts in front of the message.

export interface FieldPath {
  /** As written, e.g. `Contact.MobilePhone`. */
  text: string
  parts: string[]
  pos: number
}

export type Literal =
  | { kind: 'string'; raw: string; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'boolean'; value: boolean; pos: number }
  | { kind: 'null'; pos: number }
  | { kind: 'datetime'; value: number; text: string; pos: number }
  | { kind: 'date'; value: string; pos: number }
  | { kind: 'dateRange'; name: string; n: number; pos: number }

export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>=' | 'like'

export type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'compare'; field: FieldPath; op: CompareOp; value: Literal }
  | { kind: 'in'; field: FieldPath; negated: boolean; values: Literal[] }
  | { kind: 'inQuery'; field: FieldPath; negated: boolean; query: SoqlQuery }

export interface OrderItem {
  field: FieldPath
  descending: boolean
  nullsLast: boolean
}

export interface SoqlQuery {
  text: string
  /** `COUNT()` queries return only totalSize. */
  count: boolean
  fields: FieldPath[]
  from: { name: string; pos: number }
  where?: Condition
  orderBy: OrderItem[]
  limit?: number
  offset?: number
}

interface Token {
  kind: 'word' | 'string' | 'number' | 'datetime' | 'date' | 'op' | '(' | ')' | ',' | 'eof'
  text: string
  pos: number
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT])/
const NUMBER = /^-?\d+(?:\.\d+)?/
const WORD = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?/
const OPERATOR = /^(?:!=|<>|<=|>=|=|<|>)/
// Order matters: a datetime literal also starts like a date and a number.
const LEXEMES: [Token['kind'], RegExp][] = [['datetime', DATETIME], ['date', DATE], ['number', NUMBER], ['word', WORD], ['op', OPERATOR]]

export function soqlError(source: string, pos: number, message: string, errorCode = 'MALFORMED_QUERY'): SfError {
  const before = source.slice(0, pos)
  const row = before.split('\n').length
  const lineStart = before.lastIndexOf('\n') + 1
  const lineEnd = source.indexOf('\n', pos)
  const line = source.slice(lineStart, lineEnd === -1 ? undefined : lineEnd)
  const column = pos - lineStart + 1
  return new SfError(400, errorCode, `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${message}`)
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const ch = source[i] as string
    if (/\s/.test(ch)) {
      i++
      continue
    }
    const rest = source.slice(i)
    if (ch === "'") {
      let j = i + 1
      while (j < source.length && source[j] !== "'") j += source[j] === '\\' ? 2 : 1
      if (j >= source.length) throw soqlError(source, i, 'unterminated string literal')
      tokens.push({ kind: 'string', text: source.slice(i + 1, j), pos: i })
      i = j + 1
      continue
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch, text: ch, pos: i })
      i++
      continue
    }
    const match = LEXEMES.map(([kind, re]) => ({ kind, m: re.exec(rest) })).find((x) => x.m)
    if (!match?.m) throw soqlError(source, i, `unexpected token: '${ch}'`)
    tokens.push({ kind: match.kind, text: match.m[0], pos: i })
    i += match.m[0].length
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: source.length })
  return tokens
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\', _: '_', '%': '%' }

function unescape(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c)
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** LIKE pattern → case-insensitive RegExp: `%` any run, `_` one char, `\%` and `\_` literal. */
export function likeRegExp(raw: string): RegExp {
  let source = ''
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string
    if (c === '\\' && i + 1 < raw.length) {
      const next = raw[++i] as string
      source += escapeRegExp(ESCAPES[next] ?? next)
    } else {
      source += c === '%' ? '.*' : c === '_' ? '.' : escapeRegExp(c)
    }
  }
  return new RegExp(`^${source}$`, 'is')
}

const DATE_RANGES = new Set(['TODAY', 'YESTERDAY', 'TOMORROW', 'LAST_N_DAYS', 'NEXT_N_DAYS'])
const CLAUSE_WORDS = new Set(['SELECT', 'FROM', 'WHERE', 'ORDER', 'LIMIT', 'OFFSET', 'USING', 'WITH', 'AND', 'OR', 'NOT', 'IN', 'LIKE', 'FOR', 'GROUP'])

class Parser {
  private readonly source: string
  private readonly tokens: Token[]
  private index = 0

  constructor(source: string) {
    this.source = source
    this.tokens = tokenize(source)
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token
  }

  private take(): Token {
    const t = this.peek()
    if (t.kind !== 'eof') this.index++
    return t
  }

  private isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset)
    return t.kind === 'word' && t.text.toUpperCase() === word
  }

  private fail(token: Token): never {
    throw soqlError(this.source, token.pos, token.kind === 'eof' ? 'unexpected token: <EOF>' : `unexpected token: '${token.text}'`)
  }

  private expectWord(word: string): Token {
    if (!this.isWord(word)) this.fail(this.peek())
    return this.take()
  }

  private expect(kind: Token['kind']): Token {
    if (this.peek().kind !== kind) this.fail(this.peek())
    return this.take()
  }

  parseQuery(nested = false): SoqlQuery {
    this.expectWord('SELECT')
    let count = false
    const fields: FieldPath[] = []
    if (this.isWord('COUNT') && this.peek(1).kind === '(') {
      this.take()
      this.take()
      if (this.peek().kind !== ')') this.fail(this.peek())
      this.take()
      count = true
    } else {
      for (;;) {
        if (this.peek().kind === '(') throw soqlError(this.source, this.peek().pos, 'Nested (parent-to-child) subqueries are not supported by this simulator')
        fields.push(this.fieldPath())
        if (this.peek().kind !== ',') break
        this.take()
      }
    }
    this.expectWord('FROM')
    const fromToken = this.expect('word')
    const query: SoqlQuery = { text: this.source, count, fields, from: { name: fromToken.text, pos: fromToken.pos }, orderBy: [] }
    if (this.isWord('USING')) {
      // Scope (mine/everything) does not narrow anything: every record belongs to the org's one user.
      this.take()
      this.expectWord('SCOPE')
      this.expect('word')
    }
    if (this.isWord('WHERE')) {
      this.take()
      query.where = this.condition()
    }
    if (this.isWord('WITH')) {
      this.take()
      const t = this.expect('word')
      if (!['SECURITY_ENFORCED', 'USER_MODE', 'SYSTEM_MODE'].includes(t.text.toUpperCase())) this.fail(t)
    }
    if (this.isWord('ORDER')) {
      this.take()
      this.expectWord('BY')
      for (;;) {
        const field = this.fieldPath()
        let descending = false
        if (this.isWord('ASC') || this.isWord('DESC')) descending = this.take().text.toUpperCase() === 'DESC'
        // Salesforce sorts nulls first by default, whatever the direction.
        let nullsLast = false
        if (this.isWord('NULLS')) {
          this.take()
          const t = this.take()
          const w = t.text.toUpperCase()
          if (w !== 'FIRST' && w !== 'LAST') this.fail(t)
          nullsLast = w === 'LAST'
        }
        query.orderBy.push({ field, descending, nullsLast })
        if (this.peek().kind !== ',') break
        this.take()
      }
    }
    if (this.isWord('LIMIT')) {
      this.take()
      query.limit = this.nonNegativeInteger()
    }
    if (this.isWord('OFFSET')) {
      this.take()
      query.offset = this.nonNegativeInteger()
      if (query.offset > 2000) throw new SfError(400, 'NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000')
    }
    if (!nested) {
      if (this.peek().kind !== 'eof') this.fail(this.peek())
    } else if (this.peek().kind !== ')') {
      this.fail(this.peek())
    }
    return query
  }

  private nonNegativeInteger(): number {
    const t = this.expect('number')
    const n = Number(t.text)
    if (!Number.isInteger(n) || n < 0) this.fail(t)
    return n
  }

  private fieldPath(): FieldPath {
    const t = this.peek()
    if (t.kind !== 'word' || CLAUSE_WORDS.has(t.text.toUpperCase()) || t.text.includes(':')) this.fail(t)
    this.take()
    return { text: t.text, parts: t.text.split('.'), pos: t.pos }
  }

  /** One parenthesis level: all AND or all OR — SOQL rejects mixing them without parentheses. */
  private condition(): Condition {
    const first = this.unary()
    let joiner: 'and' | 'or' | undefined
    const items = [first]
    while (this.isWord('AND') || this.isWord('OR')) {
      const t = this.peek()
      const word = t.text.toLowerCase() as 'and' | 'or'
      if (joiner && joiner !== word) this.fail(t)
      joiner = word
      this.take()
      items.push(this.unary())
    }
    return joiner ? { kind: joiner, items } : first
  }

  private unary(): Condition {
    if (this.isWord('NOT')) {
      this.take()
      return { kind: 'not', item: this.unary() }
    }
    if (this.peek().kind === '(') {
      this.take()
      const inner = this.condition()
      this.expect(')')
      return inner
    }
    return this.comparison()
  }

  private comparison(): Condition {
    const field = this.fieldPath()
    let negated = false
    if (this.isWord('NOT') && this.isWord('IN', 1)) {
      this.take()
      negated = true
    }
    if (this.isWord('IN')) {
      this.take()
      this.expect('(')
      if (this.isWord('SELECT')) {
        const query = this.parseQuery(true)
        this.expect(')')
        return { kind: 'inQuery', field, negated, query }
      }
      const values: Literal[] = []
      for (;;) {
        values.push(this.literal())
        if (this.peek().kind !== ',') break
        this.take()
      }
      this.expect(')')
      return { kind: 'in', field, negated, values }
    }
    if (negated) this.fail(this.peek())
    if (this.isWord('LIKE')) {
      this.take()
      return { kind: 'compare', field, op: 'like', value: this.literal() }
    }
    const opToken = this.peek()
    if (opToken.kind !== 'op') this.fail(opToken)
    this.take()
    const op = (opToken.text === '<>' ? '!=' : opToken.text) as CompareOp
    return { kind: 'compare', field, op, value: this.literal() }
  }

  private literal(): Literal {
    const t = this.take()
    switch (t.kind) {
      case 'string':
        return { kind: 'string', raw: t.text, value: unescape(t.text), pos: t.pos }
      case 'number':
        return { kind: 'number', value: Number(t.text), pos: t.pos }
      case 'datetime': {
        const iso = t.text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
        return { kind: 'datetime', value: Date.parse(iso), text: t.text, pos: t.pos }
      }
      case 'date':
        return { kind: 'date', value: t.text, pos: t.pos }
      case 'word': {
        const upper = t.text.toUpperCase()
        if (upper === 'NULL') return { kind: 'null', pos: t.pos }
        if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE', pos: t.pos }
        const [name, n] = upper.split(':')
        if (name && DATE_RANGES.has(name) && (n !== undefined) === name.endsWith('_N_DAYS')) {
          return { kind: 'dateRange', name, n: Number(n ?? 0), pos: t.pos }
        }
        return this.fail(t)
      }
      default:
        return this.fail(t)
    }
  }
}

export function parseSoql(source: string): SoqlQuery {
  return new Parser(source).parseQuery()
}
