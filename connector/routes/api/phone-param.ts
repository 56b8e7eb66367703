import { AppError } from '../../errors.ts'
import { InvalidPhoneError, requireE164 } from '../../phones/phone-number.ts'

/** An E.164 phone from a request, or a 400 that says what is expected. */
export function phoneParam(input: string): string {
  try {
    return requireE164(input)
  } catch (error) {
    if (error instanceof InvalidPhoneError) throw new AppError(400, 'INVALID_PHONE', `${error.message}; expected E.164 such as +4915123456789`)
    throw error
  }
}
