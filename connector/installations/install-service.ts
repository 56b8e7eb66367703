import type { Logger } from 'pino'
import type { CrmKind } from '../../crm-adapters/crm-adapter.ts'
import type { CrmOAuth, CrmProvider } from '../../crm-adapters/crm-provider.ts'
import type { CrmProviders } from '../../crm-adapters/registry.ts'
import type { Database } from '../db/database.ts'
import type { SecretBox } from '../security/secret-box.ts'
import { findInstallation, markUninstalled, saveInstallation, type Installation } from './installation-repository.ts'
import type { OAuthStates } from './oauth-state.ts'

// Install and uninstall for any CRM the registry knows, independent of HTTP. Nothing is stored
// unless the code exchange and the account lookup both succeeded; the installation is written in
// one statement.

export class CrmNotConfiguredError extends Error {
  readonly code = 'CRM_NOT_CONFIGURED'
  constructor(provider: CrmProvider) {
    super(`${provider.label} is not configured on this connector: ${provider.setupHint}`)
    this.name = 'CrmNotConfiguredError'
  }
}

export interface InstallDeps {
  db: Database
  secrets: SecretBox
  states: OAuthStates
  providers: CrmProviders
  log: Logger
  publicUrl: string
  /** Each CRM's OAuth redirect path, as the app's registration (manifest.json) declares it. */
  redirectPaths: Record<CrmKind, string>
}

export class InstallService {
  readonly #d: InstallDeps

  constructor(deps: InstallDeps) {
    this.#d = deps
  }

  redirectUri(crm: CrmKind): string {
    return `${this.#d.publicUrl}${this.#d.redirectPaths[crm]}`
  }

  #oauth(crm: CrmKind): CrmOAuth {
    const provider = this.#d.providers.get(crm)
    if (!provider.oauth) throw new CrmNotConfiguredError(provider)
    return provider.oauth
  }

  /** The consent-screen URL for a new install; `login` picks the login host where the CRM has several. */
  async begin(crm: CrmKind, login?: string): Promise<string> {
    const oauth = this.#oauth(crm)
    return this.#d.states.issue(crm, (state) => oauth.authorize({ redirectUri: this.redirectUri(crm), state, ...(login === undefined ? {} : { login }) }))
  }

  async complete(crm: CrmKind, code: string, state: string | undefined): Promise<Installation> {
    const oauth = this.#oauth(crm)
    const stored = await this.#d.states.consume(crm, state)
    const grant = await oauth.exchange({ code, redirectUri: this.redirectUri(crm), loginUrl: stored.loginUrl, codeVerifier: stored.codeVerifier })
    // Without a refresh token the install works for one access token's life only.
    const missingScopes = grant.refreshToken ? grant.missingScopes : [...grant.missingScopes, 'refresh_token']
    const { installation, created } = await saveInstallation(this.#d.db, {
      crm,
      accountId: grant.accountId,
      accountName: grant.accountName,
      scopes: grant.scopes,
      missingScopes,
      userId: grant.userId,
      instanceUrl: grant.instanceUrl,
      loginUrl: stored.loginUrl,
      accessTokenSealed: this.#d.secrets.seal(grant.accessToken),
      refreshTokenSealed: grant.refreshToken ? this.#d.secrets.seal(grant.refreshToken) : null,
      accessTokenExpiresAt: grant.expiresInSeconds ? new Date(Date.now() + grant.expiresInSeconds * 1000) : null,
    })
    this.#d.log.info({ installationId: installation.id, crm, created, missingScopes }, 'CRM account installed')
    return installation
  }

  /**
   * Revokes the tokens at the CRM, erases them here and marks the installation uninstalled; its
   * audit trail stays. A CRM that cannot be reached does not keep the secrets alive: they are
   * erased anyway and the failed revocation is recorded.
   */
  async uninstall(id: string): Promise<{ installation: Installation; revoked: boolean } | undefined> {
    const i = await findInstallation(this.#d.db, id)
    if (!i) return undefined
    let revoked = false
    let revokeError: string | undefined
    if (i.refreshTokenSealed || i.accessTokenSealed) {
      try {
        const token = this.#d.secrets.open((i.refreshTokenSealed ?? i.accessTokenSealed)!)
        await this.#oauth(i.crm).revoke({ token, loginUrl: i.loginUrl })
        revoked = true
      } catch (error) {
        revokeError = (error as Error).message
        this.#d.log.warn({ installationId: i.id, crm: i.crm, err: error }, 'token revocation at the CRM failed; erasing the tokens anyway')
      }
    }
    await this.#d.db.transaction((tx) => markUninstalled(tx, i.id, { revoked, ...(revokeError ? { revokeError } : {}) }))
    return { installation: (await findInstallation(this.#d.db, id))!, revoked }
  }
}
