import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import { AppError } from '../../errors.ts'

/** A CRM's refusal as the API answers it: 503 where retrying can help, 422 where it cannot. */
export function crmFailure(error: unknown, label: string): unknown {
  if (error instanceof CrmError) return new AppError(error.retryable ? 503 : 422, `CRM_${error.code}`, `${label} answered: ${error.message}`)
  return error
}
