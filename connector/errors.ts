// Errors the HTTP layer turns into Fastify's error shape plus a stable `code`.

export class AppError extends Error {
  readonly statusCode: number
  readonly code: string
  readonly details: unknown

  constructor(statusCode: number, code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'AppError'
    this.statusCode = statusCode
    this.code = code
    this.details = details
  }
}

export const notFound = (what: string, id: string) => new AppError(404, 'NOT_FOUND', `${what} ${id} does not exist`)
