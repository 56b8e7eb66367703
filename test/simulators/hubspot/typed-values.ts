// Value checks for schema'd event payloads (app event properties, legacy timeline tokens).
import { parseDateValue } from './contact-store.ts'

/** Returns why `value` doesn't fit `type`, or null when it does. */
export function typeProblem(type: string, options: readonly string[] | undefined, value: unknown): string | null {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? null : 'must be a string'
    case 'number':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        ? null
        : 'must be a number'
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' ? null : 'must be a boolean'
    case 'date':
    case 'datetime':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && Number.isFinite(parseDateValue(value)))
        ? null
        : 'must be epoch milliseconds or an ISO-8601 date'
    case 'enumeration':
      return typeof value === 'string' && (!options || options.includes(value)) ? null : `must be one of [${(options ?? []).join(', ')}]`
    default:
      return `has unsupported type ${type}`
  }
}
