import type { Queryable } from '../db/database.ts'
import { installationsByIds } from '../installations/installation-repository.ts'
import { pendingByInstallation, writebacksOfMatchKey, type Writeback } from './writeback-repository.ts'
import type { ConsentPayload } from './consent-writebacks.ts'

// The outbox as the API, the consent audit and /metrics show it.

export function writebackView(w: Writeback, crm: string | undefined) {
  return {
    id: String(w.id),
    installationId: w.installationId,
    ...(crm ? { crm } : {}),
    objectType: w.objectType,
    recordId: w.recordId,
    kind: w.kind,
    payload: w.payload,
    occurredAt: w.occurredAt.toISOString(),
    status: w.status,
    attempts: w.attempts,
    nextAttemptAt: w.status === 'pending' ? w.nextAttemptAt.toISOString() : null,
    error: w.lastErrorCode ? { code: w.lastErrorCode, message: w.lastErrorMessage ?? '' } : null,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  }
}

/** The CRM of each installation named, by id. */
export async function crmOfInstallations(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  return new Map((await installationsByIds(db, [...new Set(ids)])).map((i) => [i.id, i.crm]))
}

/** A person's consent write-backs as the consent record lists them (CONTRACT shape), with their installation. */
export async function consentWritebacksOf(db: Queryable, matchKey: string, installationId?: string) {
  const writes = (await writebacksOfMatchKey(db, matchKey, installationId)).filter((w) => w.kind === 'consent')
  const crms = await crmOfInstallations(db, writes.map((w) => w.installationId))
  return writes.map((w) => ({
    installationId: w.installationId,
    crm: crms.get(w.installationId) ?? 'unknown',
    objectType: w.objectType,
    recordId: w.recordId,
    state: (w.payload as unknown as ConsentPayload).state,
    status: w.status,
    attempts: w.attempts,
    at: w.updatedAt.toISOString(),
    ...(w.lastErrorCode && w.status !== 'done' ? { error: { code: w.lastErrorCode, message: w.lastErrorMessage ?? '' } } : {}),
  }))
}

/** Pending writes and the age of the oldest, per CRM (every CRM named in `crms`, zero when none). */
export async function outboxDepthByCrm(db: Queryable, crms: readonly string[], now = Date.now()): Promise<Map<string, { pending: number; oldestSeconds: number }>> {
  const rows = await pendingByInstallation(db)
  const crmOf = await crmOfInstallations(db, rows.map((r) => r.installationId))
  const out = new Map(crms.map((c) => [c, { pending: 0, oldestSeconds: 0 }]))
  for (const r of rows) {
    const crm = crmOf.get(r.installationId)
    if (!crm) continue
    const entry = out.get(crm) ?? { pending: 0, oldestSeconds: 0 }
    entry.pending += r.pending
    entry.oldestSeconds = Math.max(entry.oldestSeconds, (now - r.oldest.getTime()) / 1000)
    out.set(crm, entry)
  }
  return out
}
