// Validates a POST /{phone-number-id}/messages body the way the Cloud API does, for the types the simulator supports.
import { GraphError } from './graph-errors.ts'
import { bodyText, isRecord, placeholders } from './registry.ts'
import type { Template, Waba } from './registry.ts'

export interface SendRequest {
  /** `to`, or `recipient` when the send names a business-scoped user id instead. */
  to: string
  /** `to` normalised to digits, as echoed in contacts[].wa_id and used as recipient_id in webhooks; the BSUID of a send by user id. */
  waId: string
  /** Set for a send by business-scoped user id (`recipient`, reference §9). */
  userId?: string
  type: 'template' | 'text'
  templateName?: string
  templateLanguage?: string
  bizOpaqueCallbackData?: string
  body: Record<string, unknown>
}

function invalid(details: string): GraphError {
  return new GraphError(100, { details })
}

/** Shape checks only (code 100); template existence is checked separately so rate limits can sit in between. */
export function parseSendRequest(body: unknown): SendRequest {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.')
  if (body['messaging_product'] === undefined) throw invalid('The parameter messaging_product is required.')
  if (body['messaging_product'] !== 'whatsapp') throw invalid("Param messaging_product must be 'whatsapp'.")
  if (body['recipient_type'] !== undefined && body['recipient_type'] !== 'individual') {
    throw invalid("Param recipient_type must be 'individual' (the simulator does not model groups).")
  }
  const opaque = body['biz_opaque_callback_data']
  if (opaque !== undefined && typeof opaque !== 'string') throw invalid('Param biz_opaque_callback_data must be a string.')
  const common = { ...addressee(body), body, ...(opaque === undefined ? {} : { bizOpaqueCallbackData: opaque }) }

  if (body['type'] === 'text') {
    const text = body['text']
    if (!isRecord(text) || typeof text['body'] !== 'string' || text['body'] === '') throw invalid('The parameter text.body is required.')
    if (text['body'].length > 4096) throw invalid('Param text.body must be at most 4096 characters.')
    return { ...common, type: 'text' }
  }
  if (body['type'] === 'template') {
    const template = body['template']
    if (!isRecord(template)) throw invalid('The parameter template is required.')
    if (typeof template['name'] !== 'string' || template['name'] === '') throw invalid('The parameter template.name is required.')
    const language = template['language']
    if (!isRecord(language) || typeof language['code'] !== 'string' || language['code'] === '') {
      throw invalid('The parameter template.language.code is required.')
    }
    if (template['components'] !== undefined && !Array.isArray(template['components'])) throw invalid('Param template.components must be an array.')
    return { ...common, type: 'template', templateName: template['name'], templateLanguage: language['code'] }
  }
  throw invalid(`Param type must be 'template' or 'text' (the simulator supports only these; got ${JSON.stringify(body['type'])}).`)
}

/** `to` (a phone) or, without it, `recipient` (a BSUID); if both are sent `to` wins, as on Meta (reference §1.1, §9). */
function addressee(body: Record<string, unknown>): { to: string; waId: string; userId?: string } {
  const to = body['to']
  const recipient = body['recipient']
  if (to === undefined && typeof recipient === 'string' && recipient !== '') {
    if (!/^[A-Z]{2}(\.[A-Za-z0-9]{1,128}){1,2}$/.test(recipient)) throw invalid(`Param recipient must be a business-scoped user id such as US.13491208655302741918 (got '${recipient}').`)
    return { to: recipient, waId: recipient, userId: recipient }
  }
  if (typeof to !== 'string' || to === '') throw invalid('The parameter to (or recipient) is required and must be a string.')
  const waId = to.startsWith('+') ? to.slice(1) : to
  if (!/^\d{6,15}$/.test(waId)) throw invalid(`Param to must be a phone number with country code, digits only (got '${to}').`)
  return { to, waId }
}

/** Finds the approved template a send refers to and checks its body parameter count (132001/132015/132016/132000). */
export function resolveTemplate(waba: Waba, req: SendRequest): Template {
  const name = req.templateName ?? ''
  const language = req.templateLanguage ?? ''
  const template = waba.templates.find((t) => t.name === name && t.language === language)
  if (template?.status === 'PAUSED') throw new GraphError(132015, { details: `Template ${name} is paused.` })
  if (template?.status === 'DISABLED') throw new GraphError(132016, { details: `Template ${name} is disabled.` })
  if (!template || template.status !== 'APPROVED') {
    throw new GraphError(132001, { details: `template name (${name}) does not exist in ${language}` })
  }
  const expected = placeholders(bodyText(template.components)).length
  const sent = bodyParameterCount(req.body)
  if (sent !== expected) {
    throw new GraphError(132000, { details: `body: number of localizable_params (${sent}) does not match the expected number of params (${expected})` })
  }
  return template
}

function bodyParameterCount(body: Record<string, unknown>): number {
  const template = body['template']
  const components = isRecord(template) && Array.isArray(template['components']) ? template['components'] : []
  let count = 0
  for (const c of components) {
    if (isRecord(c) && String(c['type']).toLowerCase() === 'body' && Array.isArray(c['parameters'])) count += c['parameters'].length
  }
  return count
}
