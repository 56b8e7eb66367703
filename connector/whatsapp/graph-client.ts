import { GraphError, GraphTransportError, type GraphErrorBody } from './graph-errors.ts'

// Typed calls to the WhatsApp Cloud API (Graph). Base URL and version come from configuration so
// tests and sandboxes point it at the simulator. Shapes: reference whatsapp.md §1, §6.

export interface PhoneNumberInfo {
  id: string
  display_phone_number: string
  verified_name?: string
  quality_rating?: string
}

export interface TemplateComponent {
  type: string
  format?: string
  text?: string
  buttons?: Array<{ type: string; text?: string; url?: string }>
  [key: string]: unknown
}

export interface MessageTemplate {
  id: string
  name: string
  language: string
  status: string
  category?: string
  parameter_format?: string
  components?: TemplateComponent[]
}

export interface SendParameter {
  type: 'text'
  text: string
}

export interface SendComponent {
  type: 'header' | 'body' | 'button'
  sub_type?: string
  index?: string
  parameters: Array<SendParameter | Record<string, unknown>>
}

/**
 * Whom a message goes to: a phone as digits with country code, no '+' (reference §1.1), or, for a
 * user known only by business-scoped user id, that id, sent as `recipient` (reference §9).
 */
export type Addressee = { to: string; userId?: undefined } | { userId: string; to?: undefined }

export type TemplateSend = Addressee & {
  name: string
  language: string
  components?: SendComponent[]
  /** Echoed on every status webhook: our message id, so statuses tie back even before we hold the wamid. */
  callbackData?: string
}

export type TextSend = Addressee & {
  body: string
  replyTo?: string
  callbackData?: string
}

export interface SendResult {
  wamid: string
  waId: string | undefined
  messageStatus: string | undefined
}

export interface WhatsAppClient {
  getPhoneNumber(phoneNumberId: string, token: string): Promise<PhoneNumberInfo>
  /** The id of the business portfolio that owns the WABA, when Graph names it. */
  getBusinessPortfolioId(wabaId: string, token: string): Promise<string | undefined>
  listWabaPhoneNumbers(wabaId: string, token: string): Promise<PhoneNumberInfo[]>
  listTemplates(wabaId: string, token: string): Promise<MessageTemplate[]>
  sendTemplate(phoneNumberId: string, token: string, send: TemplateSend): Promise<SendResult>
  sendText(phoneNumberId: string, token: string, send: TextSend): Promise<SendResult>
}

export interface GraphClientOptions {
  baseUrl: string
  version: string
  timeoutMs?: number
  /** Called once per HTTP call with its outcome, for metrics. */
  onCall?: (call: { endpoint: string; status: number | 'error'; code?: number }) => void
}

interface Page<T> {
  data: T[]
  paging?: { cursors?: { after?: string }; next?: string }
}

export class GraphClient implements WhatsAppClient {
  readonly #base: string
  readonly #timeoutMs: number
  readonly #onCall: GraphClientOptions['onCall']

  constructor(options: GraphClientOptions) {
    this.#base = `${options.baseUrl.replace(/\/+$/, '')}/${options.version}`
    this.#timeoutMs = options.timeoutMs ?? 15_000
    this.#onCall = options.onCall
  }

  async getPhoneNumber(phoneNumberId: string, token: string): Promise<PhoneNumberInfo> {
    const fields = 'id,display_phone_number,verified_name,quality_rating'
    return this.#request<PhoneNumberInfo>('GET /phone_number', `/${enc(phoneNumberId)}?fields=${fields}`, token)
  }

  async getBusinessPortfolioId(wabaId: string, token: string): Promise<string | undefined> {
    // The WABA node's owner_business_info is { id, name } of the owning business portfolio
    // (https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/).
    const waba = await this.#request<{ owner_business_info?: { id?: string } }>('GET /waba', `/${enc(wabaId)}?fields=owner_business_info`, token)
    return waba.owner_business_info?.id
  }

  async listWabaPhoneNumbers(wabaId: string, token: string): Promise<PhoneNumberInfo[]> {
    return this.#all<PhoneNumberInfo>('GET /phone_numbers', `/${enc(wabaId)}/phone_numbers?fields=id,display_phone_number,verified_name,quality_rating&limit=100`, token)
  }

  async listTemplates(wabaId: string, token: string): Promise<MessageTemplate[]> {
    const fields = 'id,name,language,status,category,components,parameter_format'
    return this.#all<MessageTemplate>('GET /message_templates', `/${enc(wabaId)}/message_templates?fields=${fields}&limit=100`, token)
  }

  async sendTemplate(phoneNumberId: string, token: string, send: TemplateSend): Promise<SendResult> {
    const body: Record<string, unknown> = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...addressOf(send),
      type: 'template',
      template: { name: send.name, language: { code: send.language }, ...(send.components?.length ? { components: send.components } : {}) },
    }
    if (send.callbackData) body.biz_opaque_callback_data = send.callbackData
    return this.#send(phoneNumberId, token, body)
  }

  async sendText(phoneNumberId: string, token: string, send: TextSend): Promise<SendResult> {
    const body: Record<string, unknown> = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...addressOf(send),
      type: 'text',
      text: { preview_url: false, body: send.body },
    }
    if (send.replyTo) body.context = { message_id: send.replyTo }
    if (send.callbackData) body.biz_opaque_callback_data = send.callbackData
    return this.#send(phoneNumberId, token, body)
  }

  async #send(phoneNumberId: string, token: string, body: Record<string, unknown>): Promise<SendResult> {
    const res = await this.#request<{ contacts?: Array<{ wa_id?: string }>; messages?: Array<{ id: string; message_status?: string }> }>(
      'POST /messages', `/${enc(phoneNumberId)}/messages`, token, body,
    )
    const message = res.messages?.[0]
    if (!message?.id) throw new GraphError(200, { code: 131000, message: 'Graph accepted the send but returned no message id' })
    return { wamid: message.id, waId: res.contacts?.[0]?.wa_id, messageStatus: message.message_status }
  }

  async #all<T>(endpoint: string, path: string, token: string): Promise<T[]> {
    const out: T[] = []
    let next: string | undefined = path
    // Graph cursor paging: follow paging.next until it is absent (reference §6.1).
    for (let pages = 0; next && pages < 1000; pages++) {
      const page: Page<T> = await this.#request<Page<T>>(endpoint, next, token)
      out.push(...page.data)
      const after = page.paging?.cursors?.after
      next = page.paging?.next && after ? `${path}&after=${encodeURIComponent(after)}` : undefined
    }
    return out
  }

  async #request<T>(endpoint: string, path: string, token: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.#base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error) {
      this.#onCall?.({ endpoint, status: 'error' })
      throw new GraphTransportError(error)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : {}
    } catch {
      json = undefined
    }
    const errorBody = (json as { error?: GraphErrorBody } | undefined)?.error
    if (!res.ok || errorBody) {
      const error = new GraphError(res.status, errorBody ?? { message: `HTTP ${res.status} from Graph: ${text.slice(0, 200)}`, code: res.status >= 500 ? 131016 : 0 })
      this.#onCall?.({ endpoint, status: res.status, code: error.code })
      throw error
    }
    this.#onCall?.({ endpoint, status: res.status })
    if (json === undefined) throw new GraphError(res.status, { code: 131000, message: 'Graph answered with a body that is not JSON' })
    return json as T
  }
}

/** `to` for a phone, `recipient` for a user id (if both were sent, Meta would use `to`; reference §1.1). */
function addressOf(a: Addressee): Record<string, string> {
  return a.to !== undefined ? { to: a.to } : { recipient: a.userId }
}

function enc(id: string): string {
  return encodeURIComponent(id)
}
