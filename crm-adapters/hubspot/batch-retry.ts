// HubSpot batch writes fail as a whole when one input names an unknown record (400 with the ids
// in `context`); the rest of the batch still deserves to be written.
import { CrmError } from '../crm-adapter.ts'
import { contextIds } from './hubspot-errors.ts'

export interface Named<T> {
  named: Map<T, CrmError>
  failed: { items: T[]; error: CrmError } | undefined
}

/**
 * Runs `call` on the batch. When HubSpot rejects the whole batch for ids it names (an unknown
 * contact or communication), those items are set aside with the error and the rest is sent again.
 */
export async function withoutNamed<T>(batch: T[], idOf: (item: T) => string, call: (items: T[]) => Promise<void>): Promise<Named<T>> {
  const named = new Map<T, CrmError>()
  let rest = batch
  while (rest.length > 0) {
    try {
      await call(rest)
      return { named, failed: undefined }
    } catch (error) {
      if (!(error instanceof CrmError)) throw error
      const ids = new Set(contextIds(error))
      const hit = error.retryable ? [] : rest.filter((item) => ids.has(idOf(item)))
      if (hit.length === 0) return { named, failed: { items: rest, error } }
      for (const item of hit) named.set(item, error)
      rest = rest.filter((item) => !ids.has(idOf(item)))
    }
  }
  return { named, failed: undefined }
}
