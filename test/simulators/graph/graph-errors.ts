// Graph API errors: one catalogue used both for synchronous error bodies and for `errors[]` in failed-status webhooks.
import { randomBytes } from 'node:crypto'

interface CatalogueEntry {
  title: string
  details: string
  /** Meta returns most WhatsApp errors as 400; only these differ. */
  httpStatus?: number
}

const CATALOGUE: Record<number, CatalogueEntry> = {
  0: { title: 'AuthException', details: 'Unable to authenticate the app user.', httpStatus: 401 },
  4: { title: 'Application request limit reached', details: 'The app has reached its API call rate limit.' },
  100: { title: 'Invalid parameter', details: 'Invalid parameter.' },
  190: { title: 'Invalid OAuth access token - Cannot parse access token', details: 'The access token is invalid or expired.', httpStatus: 401 },
  368: { title: 'Temporarily blocked for policies violations', details: 'The account is temporarily blocked for policy violations.' },
  80007: { title: 'Rate limit issues', details: 'The WhatsApp Business Account has reached its rate limit.' },
  130429: { title: 'Rate limit hit', details: 'Cloud API message throughput has been reached.' },
  130472: { title: "User's number is part of an experiment", details: "Failed to send message because this user's phone number is part of an experiment." },
  131000: { title: 'Something went wrong', details: 'Message failed to send because of an unknown error.', httpStatus: 500 },
  131008: { title: 'Required parameter is missing', details: 'The request is missing a required parameter.' },
  131009: { title: 'Parameter value is not valid', details: 'One or more parameter values are invalid.' },
  131016: { title: 'Service unavailable', details: 'A service is temporarily unavailable.', httpStatus: 503 },
  131021: { title: 'Recipient cannot be sender', details: 'Sender and recipient phone number is the same.' },
  131026: { title: 'Message undeliverable', details: 'Message Undeliverable.' },
  131030: { title: 'Recipient phone number not in allowed list', details: 'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.' },
  131031: { title: 'Account has been locked', details: 'The WhatsApp Business Account is restricted or disabled.' },
  131047: { title: 'Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
  131048: { title: 'Spam rate limit hit', details: 'Message failed to send because there are restrictions on how many messages can be sent from this phone number.' },
  131049: {
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
  },
  131050: {
    title: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
    details: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
  },
  131062: {
    title: 'Business-scoped user ID recipients not supported',
    details: 'This message cannot be sent to a business-scoped user ID; send it to the phone number.',
  },
  131051: { title: 'Unsupported message type', details: 'Unsupported message type.' },
  131053: { title: 'Media upload error', details: 'Unable to upload the media used in the message.' },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details: 'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
  },
  131057: { title: 'Account in maintenance mode', details: 'Business Account is in maintenance mode.' },
  132000: { title: 'Number of parameters does not match the expected number of params', details: 'The number of parameters does not match the template.' },
  132001: { title: 'Template name does not exist in the translation', details: 'The template does not exist in the specified language or is not approved.' },
  132005: { title: 'Translated text too long', details: 'Translated text is too long.' },
  132015: { title: 'Template is Paused', details: 'Template is paused due to low quality so it cannot be sent in a template message.' },
  132016: { title: 'Template is Disabled', details: 'Template has been paused too many times due to low quality and is now permanently disabled.' },
  133010: { title: 'Phone number not registered', details: 'Phone number is not registered on the Whatsapp Business Platform.' },
  135000: { title: 'Generic user error', details: 'Message failed to send because of an unknown error with your request parameters.' },
}

export class GraphError extends Error {
  readonly code: number
  readonly title: string
  readonly details: string
  readonly httpStatus: number
  readonly type: string
  readonly subcode: number | undefined

  constructor(code: number, opts: { details?: string; title?: string; httpStatus?: number; type?: string; subcode?: number } = {}) {
    const entry = CATALOGUE[code]
    const title = opts.title ?? entry?.title ?? 'Simulated error'
    super(`(#${code}) ${title}`)
    this.code = code
    this.title = title
    this.details = opts.details ?? entry?.details ?? title
    this.httpStatus = opts.httpStatus ?? entry?.httpStatus ?? 400
    this.type = opts.type ?? 'OAuthException'
    this.subcode = opts.subcode
  }

  toBody(): { error: Record<string, unknown> } {
    return {
      error: {
        message: this.message,
        type: this.type,
        code: this.code,
        ...(this.subcode === undefined ? {} : { error_subcode: this.subcode }),
        error_data: { messaging_product: 'whatsapp', details: this.details },
        fbtrace_id: randomBytes(12).toString('base64url'),
      },
    }
  }
}

/** What the real Graph API answers for an id it does not know (or the token cannot see). */
export function unsupportedRequest(method: 'get' | 'post', id: string): GraphError {
  return new GraphError(100, {
    title: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    details: `Object with ID '${id}' does not exist.`,
    type: 'GraphMethodException',
    subcode: 33,
  })
}

export function invalidToken(): GraphError {
  return new GraphError(190)
}

/** The per-message error object inside a failed status webhook (`statuses[].errors[]`). */
export function webhookErrorObject(code: number): { code: number; title: string; message: string; error_data: { details: string }; href: string } {
  const err = new GraphError(code)
  return {
    code,
    title: err.title,
    message: err.title,
    error_data: { details: err.details },
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  }
}
