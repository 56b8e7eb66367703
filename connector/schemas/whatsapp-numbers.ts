import { Type } from '@sinclair/typebox'

/** A connected number as the API shows it: never its token. */
export const WhatsAppNumber = Type.Object({
  id: Type.String({ format: 'uuid' }),
  phoneNumberId: Type.String(),
  wabaId: Type.String(),
  businessPortfolioId: Type.String({ description: 'The business portfolio owning the WABA (the WABA id when Graph does not name it)' }),
  installationIds: Type.Array(Type.String(), { description: 'The installations whose people this number serves; empty: every installation' }),
  displayPhoneNumber: Type.String(),
  verifiedName: Type.Union([Type.String(), Type.Null()]),
  qualityRating: Type.Union([Type.String(), Type.Null()]),
  messagesPerSecond: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
}, { $id: 'WhatsAppNumber' })

export const WhatsAppNumberList = Type.Array(WhatsAppNumber)

export const ConnectNumberBody = Type.Object({
  phoneNumberId: Type.String({ pattern: '^\\d{5,32}$', description: "Meta's phone number id (not the phone number)" }),
  wabaId: Type.String({ pattern: '^\\d{5,32}$', description: 'WhatsApp Business Account id' }),
  // Sent as an Authorization header: only what a header can carry (Meta's tokens are letters and digits).
  accessToken: Type.String({ minLength: 10, maxLength: 4096, pattern: '^[\\x21-\\x7E]+$', description: 'System-user access token with whatsapp_business_messaging and whatsapp_business_management' }),
  messagesPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 80 })),
  installationIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), {
    maxItems: 100, uniqueItems: true, description: 'The installations (one customer\'s CRMs) this number serves; omitted: every installation',
  })),
}, { additionalProperties: false })
