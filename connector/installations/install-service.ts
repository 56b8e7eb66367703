import type { Logger } from 'pino'
import { CrmError, type CrmKind, type ProvisionOutcome } from '../../crm-adapters/crm-adapter.ts'
import type { CrmOAuth, CrmProvider } from '../../crm-adapters/crm-provider.ts'
import type { CrmProviders } from '../../crm-adapters/registry.ts'
import type { Database } from '../db/database.ts'
import type { SecretBox } from '../security/secret-box.ts'
import type { CrmAdapters } from './crm-adapters.ts'
import { findInstallation, markUninstalled, recordProvisioning, saveInstallation, type Installation } from './installation-repository.ts'
import type { OAuthStates } from './oauth-state.ts'

// Install and uninstall for any CRM the registry knows, independent of HTTP. Nothing is stored
// unless the code exchange and the account lookup both succeeded; the installation is written in
// one statement. Then the account is set up for the app (CrmAdapter.provision: HubSpot's contact
// properties) on every install, so a reinstall retries what failed; a failure there does not undo
// the install (the tokens are good): it is recorded, kept in last_error and shown on the page.

/** Provisioning after an install: what it did, or why it did not complete. */
export type Provisioning =
  | { ok: true; outcome: ProvisionOutcome }
  | {
      ok: false
      /** The full reason, kept in last_error and the installation's events. */
      reason: string
      /** What the install page may show: the CRM's error code or our own problem texts, never the CRM's message. */
      summary: string
      outcome?: ProvisionOutcome
    }

export interface InstallResult {
  installation: Installation
  provisioning: Provisioning
}

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
  /** Each installation's adapter, through which the account is provisioned. */
  crm: CrmAdapters
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

  async complete(crm: CrmKind, code: string, state: string | undefined): Promise<InstallResult> {
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
    const provisioning = await this.provision(installation)
    return { installation: (await findInstallation(this.#d.db, installation.id)) ?? installation, provisioning }
  }

  /**
   * Sets the account up for the app through the installation's adapter and records the outcome
   * (`provisioned`, or `provision_failed` and last_error). Never throws for the CRM's sake.
   */
  async provision(installation: Installation): Promise<Provisioning> {
    let provisioning: Provisioning
    try {
      const outcome = await this.#d.crm.for(installation).provision()
      if (outcome.problems.length === 0) provisioning = { ok: true, outcome }
      else {
        const reason = outcome.problems.map((p) => p.message).join('; ')
        provisioning = { ok: false, reason, summary: reason, outcome }
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const summary = error instanceof CrmError ? `the CRM answered with an error (${error.platformCode ?? error.code})` : 'an unexpected error'
      provisioning = { ok: false, reason, summary }
      this.#d.log.warn({ installationId: installation.id, crm: installation.crm, err: error }, 'provisioning the CRM account failed; the install stands')
    }
    try {
      if (provisioning.ok) {
        const { created, present, nothingToDo } = provisioning.outcome
        await recordProvisioning(this.#d.db, installation.id, { ok: true, detail: { created, present, nothingToDo } })
      } else {
        const o = provisioning.outcome
        await recordProvisioning(this.#d.db, installation.id, { ok: false, reason: provisioning.reason, ...(o ? { detail: { created: o.created, present: o.present, problems: o.problems } } : {}) })
      }
    } catch (error) {
      this.#d.log.error({ installationId: installation.id, err: error }, 'recording the provisioning outcome failed')
    }
    return provisioning
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
