import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

// How requests are validated against the route schemas. Bodies are JSON and taken as typed: no
// coercion (true is not 1, a string is not a one-element array). Query strings, path parameters
// and headers are text on the wire, so they are coerced to the declared types. Every object in
// our body, query and path schemas refuses fields it does not declare, unless it says otherwise —
// as the schemas of platform payloads do (`additionalProperties: true`), since a platform adding a
// field must not have its delivery refused. Headers are never closed: every client sends more.

const common: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false }

function ajv(options: Options): Ajv {
  const instance = new Ajv({ ...common, ...options })
  addFormats.default(instance)
  return instance
}

/** A copy of the schema in which objects that do not say otherwise refuse undeclared fields. */
export function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed)
  if (schema === null || typeof schema !== 'object') return schema
  const out: Record<string | symbol, unknown> = {}
  for (const [key, value] of Object.entries(schema)) out[key] = closed(value)
  if (out.type === 'object' && out.properties !== undefined && out.additionalProperties === undefined && out.patternProperties === undefined) {
    out.additionalProperties = false
  }
  return out
}

const validation: FastifyPluginAsync = async (app) => {
  const body = ajv({ coerceTypes: false })
  const text = ajv({ coerceTypes: 'array' })
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'headers') return text.compile(schema)
    return (httpPart === 'body' ? body : text).compile(closed(schema) as object)
  })
}

export default fp(validation, { name: 'validation' })
