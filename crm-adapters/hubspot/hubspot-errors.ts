// HubSpot error responses → CrmError. Bodies are `{ status:'error', message, correlationId,
// category, context?, errors? }`; 429s carry `policyName` (TEN_SECONDLY_ROLLING for the burst
// limit, the "secondly" search limit otherwise) and Retry-After (reference hubspot.md §2;
// https://developers.hubspot.com/docs/api-reference/error-handling).
import { CrmError, type CrmErrorCode } from '../crm-adapter.ts'
import { asArray, asNumber, asRecord, asString, type Json } from './json.ts'

/** Waits when a 429 names no Retry-After, by policy (the SDK's RetryDecorator uses the same). */
const POLICY_WAIT_MS: Record<string, number> = { TEN_SECONDLY_ROLLING: 10_000, SECONDLY: 1_000 }
const SEARCH_LIMIT_MESSAGE = 'You have reached your secondly limit.'

/** A CrmError that keeps HubSpot's `context` (e.g. the ids a batch could not find). */
export class HubSpotApiError extends CrmError {
  readonly context: Json

  constructor(init: ConstructorParameters<typeof CrmError>[0] & { context?: Json }) {
    super(init)
    this.name = 'HubSpotApiError'
    this.context = init.context ?? {}
  }
}

export function errorFromResponse(input: { endpoint: string; status: number; body: unknown; retryAfter: string | null; redact?: readonly string[] }): HubSpotApiError {
  const body = asRecord(input.body)
  const category = asString(body.category)
  const policyName = asString(body.policyName)
  const code = codeFor(input.status, category)
  const said = asString(body.message)
  const retryAfterMs = input.status === 429 ? waitFor429(input.retryAfter, policyName, said) : parseRetryAfter(input.retryAfter)
  return new HubSpotApiError({
    crm: 'hubspot',
    code,
    message: redact(`HubSpot ${input.endpoint} answered ${input.status}${said ? `: ${said}` : ''}`, input.redact),
    platformCode: policyName ?? category ?? asString(body.errorType),
    httpStatus: input.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    context: asRecord(body.context),
  })
}

function codeFor(status: number, category: string | undefined): CrmErrorCode {
  if (status === 429) return 'RATE_LIMITED'
  if (status >= 500) return 'SERVER_ERROR'
  if (status === 401) return 'UNAUTHORIZED'
  if (status === 403) return category === 'MISSING_SCOPES' ? 'MISSING_SCOPES' : 'UNAUTHORIZED'
  if (status === 404 || category === 'OBJECT_NOT_FOUND') return 'NOT_FOUND'
  if (status === 400 || status === 409) return 'VALIDATION_ERROR'
  return 'UNKNOWN'
}

function waitFor429(retryAfter: string | null, policyName: string | undefined, message: string | undefined): number {
  const fromHeader = parseRetryAfter(retryAfter)
  if (fromHeader !== undefined) return fromHeader
  const policy = policyName ?? (message === SEARCH_LIMIT_MESSAGE ? 'SECONDLY' : undefined)
  return (policy && POLICY_WAIT_MS[policy]) || 1_000
}

/** Retry-After in seconds or as an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined
  const seconds = asNumber(value)
  if (seconds !== undefined) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined
}

/** Replaces values the caller knows are sensitive (tokens, phone numbers) wherever they appear. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]')
  return out
}

/**
 * Per-input errors of a multi-status (207) batch answer, by the ids each error names (its
 * `context` lists, or the input's `objectWriteTraceId`). On 2026-09 and later a write that breaks
 * a portal validation rule fails this way for its own record only (reference hubspot.md §0, §4).
 */
export function batchErrors(endpoint: string, body: unknown): Map<string, HubSpotApiError> {
  const byId = new Map<string, HubSpotApiError>()
  for (const raw of asArray(asRecord(body).errors)) {
    const entry = asRecord(raw)
    const error = errorFromResponse({ endpoint, status: 400, body: entry, retryAfter: null })
    const ids = [...Object.values(asRecord(entry.context)).flatMap(asArray), entry.objectWriteTraceId].flatMap((id) => asString(id) ?? [])
    for (const id of ids) if (!byId.has(id)) byId.set(id, error)
  }
  return byId
}

/** Every string in an error's context lists, e.g. `{ ids: ['12', '13'] }` → ['12', '13']. */
export function contextIds(error: unknown): string[] {
  if (!(error instanceof HubSpotApiError)) return []
  return Object.values(error.context).flatMap((v) => asArray(v).flatMap((id) => asString(id) ?? []))
}
