// Business-scoped user ids (BSUIDs): an ISO country code, '.', then up to 128 alphanumerics; a
// parent BSUID adds a segment (US.ENT.…). Reference whatsapp.md §9, from
// https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids
export const BSUID_PATTERN = '^[A-Z]{2}(\\.[A-Za-z0-9]{1,128}){1,2}$'

const BSUID = new RegExp(BSUID_PATTERN)

/** True for a BSUID, false for a wa_id (digits only): a message's recipient is one or the other. */
export function isBsuid(value: string): boolean {
  return BSUID.test(value)
}
