import type { Queryable } from '../db/database.ts'
import { consentLogPages } from './consent-ledger.ts'

// The consent log as CSV (RFC 4180, CRLF), one event a row, produced one ledger page at a time so
// an export of any size holds one page. A field is quoted when it holds a quote, a comma or a line
// break; one that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
// carriage return) is prefixed with ' so that it is shown as text instead.

export const CONSENT_CSV_COLUMNS = ['state', 'source', 'occurred_at', 'recorded_at', 'installation_id', 'phone_or_user_id', 'evidence'] as const

const FORMULA_START = /^[=+\-@\t\r]/
const NEEDS_QUOTES = /[",\r\n]/

export function csvField(value: string | null | undefined): string {
  let v = value ?? ''
  if (FORMULA_START.test(v)) v = `'${v}`
  return NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v
}

export function csvRow(fields: ReadonlyArray<string | null | undefined>): string {
  return `${fields.map(csvField).join(',')}\r\n`
}

/** The header row, then one string per ledger page. */
export async function* consentLogCsv(db: Queryable, range: { from?: Date; to?: Date }, pageSize?: number): AsyncGenerator<string> {
  yield csvRow(CONSENT_CSV_COLUMNS)
  for await (const page of consentLogPages(db, range, pageSize)) {
    yield page.map((e) => csvRow([
      e.state, e.source, e.occurredAt.toISOString(), e.recordedAt.toISOString(), e.installationId, e.phoneOrUserId, JSON.stringify(e.evidence),
    ])).join('')
  }
}
