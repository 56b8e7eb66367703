import { CrmError, type CrmErrorCode } from '../crm-adapter.ts'

// Salesforce answers → CrmError. REST errors are `[{ message, errorCode, fields }]` with an HTTP
// status; per-record results of sObject Collections carry `statusCode` instead
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).

export interface ApiUsage {
  used: number
  max: number
}

/** `Sforce-Limit-Info: api-usage=10018/100000` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm). */
export function parseLimitInfo(header: string | null): ApiUsage | undefined {
  const match = /api-usage=(\d+)\/(\d+)/.exec(header ?? '')
  return match ? { used: Number(match[1]), max: Number(match[2]) } : undefined
}

/** The concurrent-request limit clears in seconds; the daily allocation frees up as the rolling 24 h window moves. */
const CONCURRENT_LIMIT_RETRY_MS = 60_000
const DAILY_LIMIT_RETRY_MS = 15 * 60_000

export function isDailyAllocationSpent(usage: ApiUsage | undefined): boolean {
  return usage !== undefined && usage.max > 0 && usage.used >= usage.max
}

/** Per-record (and 400) codes: a row lock is worth retrying (SERVER_ERROR is retryable), a missing record or bad data is not. */
function codeForStatusCode(statusCode: string): CrmErrorCode {
  switch (statusCode) {
    case 'UNABLE_TO_LOCK_ROW':
      return 'SERVER_ERROR'
    case 'INVALID_CROSS_REFERENCE_KEY':
    case 'ENTITY_IS_DELETED':
      return 'NOT_FOUND'
    case 'INSUFFICIENT_ACCESS_OR_READONLY':
    case 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY':
      return 'MISSING_SCOPES'
    default:
      return 'VALIDATION_ERROR'
  }
}

function codeForStatus(status: number, errorCode: string): CrmErrorCode {
  if (status === 401) return 'UNAUTHORIZED'
  if (status === 403) return errorCode === 'REQUEST_LIMIT_EXCEEDED' ? 'REQUEST_LIMIT_EXCEEDED' : 'MISSING_SCOPES'
  if (status === 404) return 'NOT_FOUND'
  if (status === 400) return codeForStatusCode(errorCode)
  if (status >= 500) return 'SERVER_ERROR'
  return 'UNKNOWN'
}

function firstError(text: string): { message: string; errorCode: string } | undefined {
  try {
    const body: unknown = JSON.parse(text)
    const item: unknown = Array.isArray(body) ? body[0] : body
    if (typeof item === 'object' && item !== null) {
      const { message, errorCode } = item as { message?: unknown; errorCode?: unknown }
      if (typeof errorCode === 'string') return { errorCode, message: typeof message === 'string' ? message : '' }
    }
  } catch {
    // not JSON (an HTML error page from a proxy or a maintenance window)
  }
  return undefined
}

/** A failed REST response. `usage` is the Sforce-Limit-Info reading of that response, if any. */
export function restError(status: number, text: string, usage: ApiUsage | undefined): CrmError {
  const parsed = firstError(text)
  const errorCode = parsed?.errorCode ?? `HTTP_${status}`
  const code = codeForStatus(status, errorCode)
  const detail = parsed?.message || text.replace(/\s+/g, ' ').slice(0, 200)
  return new CrmError({
    crm: 'salesforce',
    code,
    message: `Salesforce answered ${status} ${errorCode}: ${detail}`,
    platformCode: errorCode,
    httpStatus: status,
    ...(code === 'REQUEST_LIMIT_EXCEEDED' ? { retryAfterMs: isDailyAllocationSpent(usage) ? DAILY_LIMIT_RETRY_MS : CONCURRENT_LIMIT_RETRY_MS } : {}),
  })
}

export interface RecordErrorItem {
  statusCode: string
  message: string
  fields?: string[]
}

/** One record's failure inside a collections result. */
export function recordError(errors: RecordErrorItem[] | undefined): CrmError {
  const first = errors?.[0]
  const statusCode = first?.statusCode ?? 'UNKNOWN_EXCEPTION'
  const fields = first?.fields?.length ? ` (${first.fields.join(', ')})` : ''
  return new CrmError({
    crm: 'salesforce',
    code: first ? codeForStatusCode(statusCode) : 'UNKNOWN',
    message: `Salesforce rejected the record: ${statusCode}: ${first?.message ?? 'no error detail'}${fields}`,
    platformCode: statusCode,
  })
}

export function networkError(cause: unknown): CrmError {
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
  return new CrmError({ crm: 'salesforce', code: 'NETWORK_ERROR', message: `Salesforce could not be reached (${reason})`, cause })
}

export function validationError(message: string, platformCode?: string): CrmError {
  return new CrmError({ crm: 'salesforce', code: 'VALIDATION_ERROR', message, ...(platformCode ? { platformCode } : {}) })
}
