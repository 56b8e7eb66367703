import type { Database } from '../db/database.ts'
import type { SecretBox } from '../security/secret-box.ts'
import { GraphError } from '../whatsapp/graph-errors.ts'
import type { WhatsAppClient } from '../whatsapp/graph-client.ts'
import { upsertNumber, type WhatsAppNumberWithToken } from './number-repository.ts'

export interface ConnectNumberInput {
  phoneNumberId: string
  wabaId: string
  accessToken: string
  messagesPerSecond?: number
}

/**
 * Checks the number against Graph before storing it: the phone number id exists, the token can
 * read it, and the number belongs to the named WhatsApp Business Account. Graph's refusal is
 * passed through as a GraphError; nothing is stored unless every check passed.
 */
export async function connectNumber(
  deps: { db: Database; graph: WhatsAppClient; secrets: SecretBox },
  input: ConnectNumberInput,
): Promise<{ number: WhatsAppNumberWithToken; created: boolean }> {
  const info = await deps.graph.getPhoneNumber(input.phoneNumberId, input.accessToken)
  const wabaNumbers = await deps.graph.listWabaPhoneNumbers(input.wabaId, input.accessToken)
  if (!wabaNumbers.some((n) => n.id === input.phoneNumberId)) {
    throw new GraphError(400, {
      code: 100,
      type: 'OAuthException',
      message: `(#100) Phone number ${input.phoneNumberId} does not belong to WhatsApp Business Account ${input.wabaId}`,
      error_data: { details: 'The phone number id is not among the WhatsApp Business Account\'s phone_numbers' },
    })
  }
  return upsertNumber(deps.db, {
    phoneNumberId: input.phoneNumberId,
    wabaId: input.wabaId,
    displayPhoneNumber: info.display_phone_number,
    verifiedName: info.verified_name ?? null,
    qualityRating: info.quality_rating ?? null,
    messagesPerSecond: input.messagesPerSecond ?? 80,
    accessTokenSealed: deps.secrets.seal(input.accessToken),
  })
}
