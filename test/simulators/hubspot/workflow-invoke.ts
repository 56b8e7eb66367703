// Plays HubSpot's side of a custom workflow action: POSTs the execution request to the action URL,
// signed like HubSpot signs it, and registers the callbackId for later completion.
import { readContactProperty } from './contact-store.ts'
import { isRecord } from './input.ts'
import { signedHeaders } from './signatures.ts'
import { requireApp, requirePortal, type SimState } from './state.ts'

export interface InvokeWorkflowActionInput {
  portalId: number
  definitionId: string
  objectId: number
  inputFields: Record<string, unknown>
  /** Default: the first registered app. */
  appId?: number
  workflowId?: number
  callbackId?: string
  /** Default: the definition's actionUrl. */
  targetUrl?: string
}

export interface WorkflowActionInvocation {
  callbackId: string
  status: number
  /** Parsed JSON when the action answered JSON, else the raw text. */
  response: unknown
  requestBody: string
  requestHeaders: Record<string, string>
}

export async function invokeWorkflowAction(state: SimState, input: InvokeWorkflowActionInput): Promise<WorkflowActionInvocation> {
  const app = requireApp(state, input.appId)
  const portal = requirePortal(state, input.portalId)
  const definition = app.actionDefinitions.get(input.definitionId)
  if (!definition || definition.archivedAt !== null) throw new Error(`no active action definition ${input.definitionId} on app ${app.appId}`)
  const targetUrl = input.targetUrl ?? String(definition.body.actionUrl)
  const callbackId = input.callbackId ?? `ap-${app.appId}-${definition.id}-${state.callbacks.size + 1}-1`
  const contact = portal.contacts.get(input.objectId)
  const requested = isRecord(definition.body.objectRequestOptions) && Array.isArray(definition.body.objectRequestOptions.properties) ? definition.body.objectRequestOptions.properties : []
  const properties: Record<string, string> = {}
  for (const name of requested) {
    const value = contact && typeof name === 'string' ? readContactProperty(contact, name) : null
    if (value !== null && typeof name === 'string') properties[name] = value
  }
  const body = JSON.stringify({
    callbackId,
    origin: { portalId: portal.portalId, actionDefinitionId: Number(definition.id), actionDefinitionVersion: definition.revision },
    context: { source: 'WORKFLOWS', workflowId: input.workflowId ?? 987654321 },
    object: { objectId: input.objectId, objectType: 'CONTACT', ...(requested.length > 0 ? { properties } : {}) },
    inputFields: input.inputFields,
  })
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WorkflowsActionExecutor',
    ...signedHeaders('v2', app.clientSecret, 'POST', targetUrl, body),
  }
  const callback = { callbackId, appId: app.appId, portalId: portal.portalId, definitionId: definition.id, objectId: input.objectId, syncResponse: null as unknown, completions: [] }
  state.callbacks.set(callbackId, callback)
  const response = await fetch(targetUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // Non-JSON answers are kept as text for the test to inspect.
  }
  callback.syncResponse = parsed
  return { callbackId, status: response.status, response: parsed, requestBody: body, requestHeaders: headers }
}
