import type { CrmKind } from '../../crm-adapters/crm-adapter.ts'
import type { Queryable } from '../db/database.ts'

export type { CrmKind }
export type InstallationStatus = 'active' | 'needs_reauth' | 'uninstalled'

export interface Installation {
  id: string
  crm: CrmKind
  accountId: string
  accountName: string | null
  status: InstallationStatus
  scopes: string[]
  missingScopes: string[]
  userId: string | null
  instanceUrl: string | null
  loginUrl: string | null
  accessTokenSealed: string | null
  refreshTokenSealed: string | null
  accessTokenExpiresAt: Date | null
  tokenVersion: number
  lastError: string | null
  installedAt: Date
  updatedAt: Date
  uninstalledAt: Date | null
}

interface Row {
  id: string
  crm: CrmKind
  account_id: string
  account_name: string | null
  status: InstallationStatus
  scopes: string[]
  missing_scopes: string[]
  user_id: string | null
  instance_url: string | null
  login_url: string | null
  access_token_enc: string | null
  refresh_token_enc: string | null
  access_token_expires_at: Date | null
  token_version: number
  last_error: string | null
  installed_at: Date
  updated_at: Date
  uninstalled_at: Date | null
}

export const INSTALLATION_COLUMNS = `id, crm, account_id, account_name, status, scopes, missing_scopes, user_id, instance_url, login_url,
  access_token_enc, refresh_token_enc, access_token_expires_at, token_version, last_error, installed_at, updated_at, uninstalled_at`

export function toInstallation(r: Row): Installation {
  return {
    id: r.id,
    crm: r.crm,
    accountId: r.account_id,
    accountName: r.account_name,
    status: r.status,
    scopes: r.scopes,
    missingScopes: r.missing_scopes,
    userId: r.user_id,
    instanceUrl: r.instance_url,
    loginUrl: r.login_url,
    accessTokenSealed: r.access_token_enc,
    refreshTokenSealed: r.refresh_token_enc,
    accessTokenExpiresAt: r.access_token_expires_at,
    tokenVersion: r.token_version,
    lastError: r.last_error,
    installedAt: r.installed_at,
    updatedAt: r.updated_at,
    uninstalledAt: r.uninstalled_at,
  }
}

/** What the admin API shows: never a token. */
export function publicInstallation(i: Installation) {
  return {
    id: i.id,
    crm: i.crm,
    accountId: i.accountId,
    accountName: i.accountName,
    status: i.status,
    scopes: i.scopes,
    missingScopes: i.missingScopes,
    instanceUrl: i.instanceUrl,
    lastError: i.lastError,
    installedAt: i.installedAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
    uninstalledAt: i.uninstalledAt?.toISOString() ?? null,
  }
}

export interface SaveInstallation {
  crm: CrmKind
  accountId: string
  accountName: string | null
  scopes: string[]
  missingScopes: string[]
  userId: string | null
  instanceUrl: string | null
  loginUrl: string | null
  accessTokenSealed: string
  refreshTokenSealed: string | null
  accessTokenExpiresAt: Date | null
}

/** One installation per CRM account: a reinstall updates it (new tokens, scopes) and reactivates it. */
export async function saveInstallation(db: Queryable, s: SaveInstallation): Promise<{ installation: Installation; created: boolean }> {
  const { rows } = await db.query<Row & { created: boolean }>(
    `INSERT INTO installations (crm, account_id, account_name, scopes, missing_scopes, user_id, instance_url, login_url,
       access_token_enc, refresh_token_enc, access_token_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (crm, account_id) DO UPDATE SET account_name = EXCLUDED.account_name, scopes = EXCLUDED.scopes,
       missing_scopes = EXCLUDED.missing_scopes, user_id = EXCLUDED.user_id, instance_url = EXCLUDED.instance_url,
       login_url = EXCLUDED.login_url, access_token_enc = EXCLUDED.access_token_enc,
       refresh_token_enc = COALESCE(EXCLUDED.refresh_token_enc, installations.refresh_token_enc),
       access_token_expires_at = EXCLUDED.access_token_expires_at, token_version = installations.token_version + 1,
       status = 'active', last_error = NULL, uninstalled_at = NULL, updated_at = now()
     RETURNING ${INSTALLATION_COLUMNS}, (xmax = 0) AS created`,
    [s.crm, s.accountId, s.accountName, s.scopes, s.missingScopes, s.userId, s.instanceUrl, s.loginUrl, s.accessTokenSealed, s.refreshTokenSealed, s.accessTokenExpiresAt],
  )
  const row = rows[0]!
  await recordInstallationEvent(db, row.id, row.created ? 'installed' : 'reinstalled', { scopes: s.scopes, missingScopes: s.missingScopes })
  return { installation: toInstallation(row), created: row.created }
}

export async function recordInstallationEvent(db: Queryable, installationId: string, kind: string, detail: Record<string, unknown> = {}): Promise<void> {
  await db.query('INSERT INTO installation_events (installation_id, kind, detail) VALUES ($1, $2, $3)', [installationId, kind, JSON.stringify(detail)])
}

export async function findInstallation(db: Queryable, id: string): Promise<Installation | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${INSTALLATION_COLUMNS} FROM installations WHERE id::text = $1`, [id])
  return rows[0] ? toInstallation(rows[0]) : undefined
}

export async function listInstallations(db: Queryable): Promise<Installation[]> {
  const { rows } = await db.query<Row>(`SELECT ${INSTALLATION_COLUMNS} FROM installations ORDER BY installed_at, id`)
  return rows.map(toInstallation)
}

/** Installations by id, in the order they were installed. */
export async function installationsByIds(db: Queryable, ids: readonly string[]): Promise<Installation[]> {
  if (!ids.length) return []
  const { rows } = await db.query<Row>(`SELECT ${INSTALLATION_COLUMNS} FROM installations WHERE id = ANY($1::uuid[]) ORDER BY installed_at, id`, [ids])
  return rows.map(toInstallation)
}

/** The installation, locked until the transaction ends: one token refresh at a time across instances. */
export async function lockInstallation(tx: Queryable, id: string): Promise<Installation | undefined> {
  const { rows } = await tx.query<Row>(`SELECT ${INSTALLATION_COLUMNS} FROM installations WHERE id = $1 FOR UPDATE`, [id])
  return rows[0] ? toInstallation(rows[0]) : undefined
}

export async function storeRefreshedTokens(db: Queryable, id: string, t: { accessTokenSealed: string; refreshTokenSealed: string | null; expiresAt: Date | null; instanceUrl: string | null }): Promise<void> {
  await db.query(
    `UPDATE installations SET access_token_enc = $2, refresh_token_enc = COALESCE($3, refresh_token_enc),
       access_token_expires_at = $4, instance_url = COALESCE($5, instance_url), token_version = token_version + 1, updated_at = now()
     WHERE id = $1`,
    [id, t.accessTokenSealed, t.refreshTokenSealed, t.expiresAt, t.instanceUrl],
  )
}

/** The prefix of a provisioning failure in `last_error`, so a later success clears only its own. */
export const PROVISION_FAILED_PREFIX = 'Provisioning failed: '

/**
 * The outcome of setting the CRM account up for the app (CrmAdapter.provision) after an install:
 * `provisioned` with what was created, or `provision_failed` with the reason, also kept in
 * `last_error` until a later provisioning succeeds. Neither changes the installation's status.
 */
export async function recordProvisioning(
  db: Queryable,
  id: string,
  result: { ok: true; detail: Record<string, unknown> } | { ok: false; reason: string; detail?: Record<string, unknown> },
): Promise<void> {
  if (result.ok) {
    await db.query(`UPDATE installations SET last_error = NULL, updated_at = now() WHERE id = $1 AND starts_with(last_error, $2)`, [id, PROVISION_FAILED_PREFIX])
    await recordInstallationEvent(db, id, 'provisioned', result.detail)
  } else {
    await db.query(`UPDATE installations SET last_error = $2, updated_at = now() WHERE id = $1`, [id, PROVISION_FAILED_PREFIX + result.reason])
    await recordInstallationEvent(db, id, 'provision_failed', { reason: result.reason, ...result.detail })
  }
}

export async function markNeedsReauth(db: Queryable, id: string, lastError: string, detail: Record<string, unknown>): Promise<void> {
  await db.query(`UPDATE installations SET status = 'needs_reauth', last_error = $2, updated_at = now() WHERE id = $1`, [id, lastError])
  await recordInstallationEvent(db, id, 'needs_reauth', detail)
}

/** Erases the tokens and marks the installation uninstalled; its events stay. */
export async function markUninstalled(db: Queryable, id: string, detail: Record<string, unknown>): Promise<void> {
  await db.query(
    `UPDATE installations SET status = 'uninstalled', access_token_enc = NULL, refresh_token_enc = NULL,
       access_token_expires_at = NULL, uninstalled_at = now(), updated_at = now() WHERE id = $1`,
    [id],
  )
  await recordInstallationEvent(db, id, 'uninstalled', detail)
}
