// Graph API errors as typed values: the platform's code and subcode, Meta's trace id, and what a
// retry can achieve. The classification follows the code table in the reference (whatsapp.md §2.2);
// HTTP status is not a reliable classifier because most WhatsApp errors come back as 400.

/** retry: transient, back off and retry; later: retry in hours; never: permanent for this
 * message or recipient; fix: configuration, content or account problem, stop and alert. */
export type RetryAdvice = 'retry' | 'later' | 'never' | 'fix'

const ADVICE: Record<number, RetryAdvice> = {
  0: 'fix', 190: 'fix', 3: 'fix', 10: 'fix',
  4: 'retry', 80007: 'retry', 130429: 'retry', 131056: 'retry', 131000: 'retry', 131016: 'retry', 131057: 'retry',
  131048: 'later', 131049: 'later', 131064: 'later', 132015: 'later',
  131026: 'never', 131047: 'never', 131050: 'never', 131052: 'never', 131021: 'never', 130472: 'never', 130497: 'never', 132016: 'never',
  131051: 'fix', 131053: 'fix', 131031: 'fix', 368: 'fix', 131008: 'fix', 131009: 'fix', 131030: 'fix', 131042: 'fix', 131045: 'fix',
  132000: 'fix', 132001: 'fix', 132005: 'fix', 132007: 'fix', 132008: 'fix', 132012: 'fix', 133010: 'fix', 135000: 'fix', 100: 'fix',
}

export function retryAdvice(code: number, httpStatus?: number): RetryAdvice {
  const known = ADVICE[code]
  if (known) return known
  if (code >= 200 && code <= 299) return 'fix' // permission errors
  if (httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429)) return 'retry'
  return 'fix'
}

/** Codes after which every further send of the campaign would fail too (reference §2.2, rules of thumb). */
export const HALTING_CODES = new Set([0, 190, 131031, 368, 132001, 132015, 132016])

export interface GraphErrorBody {
  message?: string
  type?: string
  code?: number
  error_subcode?: number
  error_data?: { messaging_product?: string; details?: string }
  fbtrace_id?: string
}

export class GraphError extends Error {
  readonly code: number
  readonly subcode: number | undefined
  readonly type: string | undefined
  readonly details: string | undefined
  readonly fbtraceId: string | undefined
  readonly httpStatus: number
  readonly advice: RetryAdvice

  constructor(httpStatus: number, body: GraphErrorBody) {
    super(body.message ?? `Graph API error ${body.code ?? httpStatus}`)
    this.name = 'GraphError'
    this.httpStatus = httpStatus
    this.code = body.code ?? 0
    this.subcode = body.error_subcode
    this.type = body.type
    this.details = body.error_data?.details
    this.fbtraceId = body.fbtrace_id
    this.advice = retryAdvice(this.code, httpStatus)
  }

  get retryable(): boolean {
    return this.advice === 'retry'
  }

  /** The title Meta puts after "(#code) " in message; kept for display only. */
  get title(): string {
    return this.message.replace(/^\(#\d+\)\s*/, '')
  }

  toJSON() {
    return { code: this.code, error_subcode: this.subcode, type: this.type, message: this.message, details: this.details, fbtrace_id: this.fbtraceId, retry: this.advice }
  }
}

/** The connection failed or timed out before Graph answered: the request may or may not have been applied. */
export class GraphTransportError extends Error {
  readonly code = 'GRAPH_UNREACHABLE'
  readonly advice: RetryAdvice = 'retry'
  constructor(cause: unknown) {
    super(`Graph API unreachable: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'GraphTransportError'
  }
}
