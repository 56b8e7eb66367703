import type { Logger } from 'pino'
import { CrmError, type TokenSource } from '../../crm-adapters/crm-adapter.ts'
import type { CrmProviders } from '../../crm-adapters/registry.ts'
import type { Database } from '../db/database.ts'
import type { SecretBox } from '../security/secret-box.ts'
import { findInstallation, lockInstallation, markNeedsReauth, storeRefreshedTokens, type Installation } from './installation-repository.ts'

// Access tokens for installations, refreshed ahead of expiry and once after a 401. A refresh runs
// under a row lock on the installation (SELECT … FOR UPDATE), so across every connector instance
// one refresh happens at a time and the others pick up its result: two refreshes never race and a
// rotated refresh token is never lost. invalid_grant marks the installation needs_reauth.

/** HubSpot access tokens live 30 minutes; refresh 5 minutes early (reference hubspot.md §1). */
export const REFRESH_AHEAD_MS = 5 * 60_000

export class InstallationInactiveError extends Error {
  readonly code = 'INSTALLATION_INACTIVE'
  readonly status: string
  constructor(status: string) {
    super(`The installation is ${status}; reinstall the app to resume`)
    this.name = 'InstallationInactiveError'
    this.status = status
  }
}

export class TokenManager {
  readonly #db: Database
  readonly #secrets: SecretBox
  readonly #providers: CrmProviders
  readonly #log: Logger
  readonly #inFlight = new Map<string, Promise<string>>()

  constructor(deps: { db: Database; secrets: SecretBox; providers: CrmProviders; log: Logger }) {
    this.#db = deps.db
    this.#secrets = deps.secrets
    this.#providers = deps.providers
    this.#log = deps.log
  }

  /** The TokenSource an adapter uses for one installation. */
  sourceFor(installationId: string): TokenSource {
    return {
      accessToken: () => this.accessToken(installationId),
      refreshAfterRejection: (rejected) => this.refresh(installationId, rejected),
    }
  }

  async accessToken(installationId: string): Promise<string> {
    const i = await this.#load(installationId)
    const expiresAt = i.accessTokenExpiresAt?.getTime()
    if (expiresAt === undefined || expiresAt - Date.now() > REFRESH_AHEAD_MS) return this.#secrets.open(i.accessTokenSealed!)
    return this.refresh(installationId)
  }

  /**
   * Refreshes unless another caller (here or in another instance) already did: with `rejected`,
   * a stored token different from it is returned as is; without, a token still far from expiry is.
   */
  refresh(installationId: string, rejected?: string): Promise<string> {
    const key = `${installationId}:${rejected ?? ''}`
    const running = this.#inFlight.get(key)
    if (running) return running
    const p = this.#refreshLocked(installationId, rejected).finally(() => this.#inFlight.delete(key))
    this.#inFlight.set(key, p)
    return p
  }

  async #refreshLocked(installationId: string, rejected: string | undefined): Promise<string> {
    const outcome = await this.#db.transaction(async (tx) => {
      const i = await lockInstallation(tx, installationId)
      if (!i) throw new InstallationInactiveError('gone')
      if (i.status !== 'active' || !i.accessTokenSealed) throw new InstallationInactiveError(i.status)
      const current = this.#secrets.open(i.accessTokenSealed)
      const expiresAt = i.accessTokenExpiresAt?.getTime()
      const fresh = rejected !== undefined ? current !== rejected : expiresAt === undefined || expiresAt - Date.now() > REFRESH_AHEAD_MS
      if (fresh) return { token: current }
      if (!i.refreshTokenSealed) throw new InstallationInactiveError('missing a refresh token')
      try {
        const oauth = this.#providers.get(i.crm).oauth
        if (!oauth) throw new InstallationInactiveError(`on a connector without ${i.crm} credentials`)
        const t = await oauth.refresh({ refreshToken: this.#secrets.open(i.refreshTokenSealed), loginUrl: i.loginUrl })
        await storeRefreshedTokens(tx, i.id, {
          accessTokenSealed: this.#secrets.seal(t.accessToken),
          refreshTokenSealed: t.refreshToken ? this.#secrets.seal(t.refreshToken) : null,
          expiresAt: t.expiresInSeconds ? new Date(Date.now() + t.expiresInSeconds * 1000) : null,
          instanceUrl: t.instanceUrl ?? null,
        })
        return { token: t.accessToken }
      } catch (error) {
        if (error instanceof CrmError && error.code === 'INVALID_GRANT') {
          await markNeedsReauth(tx, i.id, 'The CRM refused the refresh token (invalid_grant): reinstall the app', { reason: 'invalid_grant' })
          this.#log.warn({ installationId: i.id, crm: i.crm }, 'refresh token refused; installation needs re-authorisation')
          return { error }
        }
        throw error
      }
    })
    if ('error' in outcome) throw outcome.error
    return outcome.token
  }

  async #load(installationId: string): Promise<Installation> {
    const i = await findInstallation(this.#db, installationId)
    if (!i) throw new InstallationInactiveError('gone')
    if (i.status !== 'active' || !i.accessTokenSealed) throw new InstallationInactiveError(i.status)
    return i
  }
}
