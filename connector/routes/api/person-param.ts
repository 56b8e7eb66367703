import type { PersonQuery } from '../../consent/consent-record.ts'
import { AppError } from '../../errors.ts'
import { phoneParam } from './phone-param.ts'

/** A person named by exactly one of an E.164 phone or a WhatsApp user id, or a 400 that says so. */
export function personParam(q: { phone?: string | undefined; userId?: string | undefined }, phoneField = 'phone'): PersonQuery {
  if ((q.phone === undefined) === (q.userId === undefined)) {
    throw new AppError(400, 'PHONE_OR_USER_ID', `Name the person by exactly one of ${phoneField} (E.164) or userId (WhatsApp business-scoped user id)`)
  }
  return q.phone !== undefined ? { phone: phoneParam(q.phone) } : { userId: q.userId! }
}
