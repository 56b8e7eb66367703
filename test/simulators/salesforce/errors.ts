// Salesforce REST error shape: an array of { message, errorCode, fields? } with an HTTP status.

export interface SfErrorItem {
  message: string
  errorCode: string
  fields?: string[]
}

export class SfError extends Error {
  readonly status: number
  readonly errorCode: string
  readonly fields: string[] | undefined

  constructor(status: number, errorCode: string, message: string, fields?: string[]) {
    super(message)
    this.status = status
    this.errorCode = errorCode
    this.fields = fields
  }

  body(): SfErrorItem[] {
    const item: SfErrorItem = { message: this.message, errorCode: this.errorCode }
    if (this.fields) item.fields = this.fields
    return [item]
  }
}

/** A per-record error inside sObject Collections results (note: `statusCode`, not `errorCode`). */
export interface RecordError {
  statusCode: string
  message: string
  fields: string[]
}

export class RecordFailure extends Error {
  readonly error: RecordError
  constructor(statusCode: string, message: string, fields: string[] = []) {
    super(message)
    this.error = { statusCode, message, fields }
  }
}

export const sessionInvalid = (): SfError => new SfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid')
export const notFound = (): SfError => new SfError(404, 'NOT_FOUND', 'The requested resource does not exist')
