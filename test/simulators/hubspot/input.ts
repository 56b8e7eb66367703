// Minimal request-body checks; failures become HubSpot VALIDATION_ERROR responses.
import { validation } from './api-error.ts'

export type Json = Record<string, unknown>

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function requireRecord(value: unknown, what: string): Json {
  if (!isRecord(value)) throw validation(`Invalid input JSON: ${what} must be an object.`)
  return value
}

export function requireArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw validation(`Invalid input JSON: ${what} must be an array.`)
  return value
}

export function optionalStringArray(value: unknown, what: string): string[] | null {
  if (value === undefined || value === null) return null
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw validation(`Invalid input JSON: ${what} must be an array of strings.`)
  return value as string[]
}

export function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw validation(`Invalid input JSON: ${what} is required and must be a string.`)
  return value
}

/** CRM APIs accept ids and property values as strings or numbers; the wire form is a string. */
export function stringish(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'boolean') return String(value)
  return null
}

/** Batch endpoints reject oversize input lists before doing anything else. */
export function checkBatchSize(inputs: unknown[], max: number): void {
  if (inputs.length > max) throw validation(`Batch input size must not exceed ${max}. Received ${inputs.length} inputs.`)
}

export function params(request: { params: unknown }): Record<string, string> {
  return request.params as Record<string, string>
}

export function query(request: { query: unknown }): Record<string, string | string[] | undefined> {
  return request.query as Record<string, string | string[] | undefined>
}

export function firstQueryValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** `?properties=a,b` and `?properties=a&properties=b` are both accepted. */
export function listParam(value: string | string[] | undefined): string[] | null {
  if (value === undefined) return null
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).filter((v) => v.length > 0)
}
