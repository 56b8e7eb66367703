import type { Database } from '../db/database.ts'
import type { SecretBox } from '../security/secret-box.ts'
import { GraphError } from '../whatsapp/graph-errors.ts'
import type { WhatsAppClient } from '../whatsapp/graph-client.ts'
import { upsertNumber, type WhatsAppNumberWithToken } from './number-repository.ts'
import { setNumberInstallations } from './number-scope-repository.ts'

export interface ConnectNumberInput {
  phoneNumberId: string
  wabaId: string
  accessToken: string
  messagesPerSecond?: number
  /** The installations the number serves (they must exist); absent or empty: every installation. */
  installationIds?: string[]
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
  const businessPortfolioId = await portfolioOf(deps.graph, input.wabaId, input.accessToken)
  return deps.db.transaction(async (tx) => {
    const connected = await upsertNumber(tx, {
      phoneNumberId: input.phoneNumberId,
      wabaId: input.wabaId,
      businessPortfolioId,
      displayPhoneNumber: info.display_phone_number,
      verifiedName: info.verified_name ?? null,
      qualityRating: info.quality_rating ?? null,
      messagesPerSecond: input.messagesPerSecond ?? 80,
      accessTokenSealed: deps.secrets.seal(input.accessToken),
    })
    await setNumberInstallations(tx, connected.number.id, input.installationIds ?? [])
    return connected
  })
}

/**
 * The business portfolio owning the WABA, which scopes its users' BSUIDs (reference §9). A token
 * that may not read the owner (Graph refuses the field) leaves the WABA id to stand in for it:
 * BSUIDs then match within this WABA only.
 */
async function portfolioOf(graph: WhatsAppClient, wabaId: string, token: string): Promise<string> {
  try {
    return (await graph.getBusinessPortfolioId(wabaId, token)) ?? wabaId
  } catch (error) {
    if (error instanceof GraphError) return wabaId
    throw error
  }
}
