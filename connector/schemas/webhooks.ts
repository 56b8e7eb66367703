import { Type } from '@sinclair/typebox'

// Webhook intake. Bodies have no schema: signatures are checked on the raw bytes.

/** Sent only once the delivery is stored in the inbox. */
export const WebhookAck = Type.Object({ status: Type.Literal('stored') })

export const WhatsAppVerifyQuery = Type.Object({
  'hub.mode': Type.Optional(Type.String()),
  'hub.verify_token': Type.Optional(Type.String()),
  'hub.challenge': Type.Optional(Type.String()),
})

/** hub.challenge echoed back as text/plain; a string payload with that type is sent unserialised. */
export const WhatsAppChallenge = Type.String()

export const WhatsAppSignatureHeaders = Type.Object({ 'x-hub-signature-256': Type.Optional(Type.String()) })

export const HubSpotSignatureHeaders = Type.Object({
  'x-hubspot-signature-v3': Type.Optional(Type.String()),
  'x-hubspot-request-timestamp': Type.Optional(Type.String()),
})
