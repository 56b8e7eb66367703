import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Database } from '../db/database.ts'
import type { SecretBox } from '../security/secret-box.ts'
import type { HubSpotOAuth, SalesforceOAuth } from './crm-oauth.ts'
import { findInstallation, recordInstallationEvent, saveInstallation, type Installation } from './installation-repository.ts'
import type { OAuthStates } from './oauth-state.ts'

// Install and uninstall, independent of HTTP. Nothing is stored unless the code exchange and the
// account lookup both succeeded; the installation is written in one statement.

export class CrmNotConfiguredError extends Error {
  readonly code = 'CRM_NOT_CONFIGURED'
  constructor(crm: string, variables: string) {
    super(`${crm} is not configured on this connector: set ${variables}`)
    this.name = 'CrmNotConfiguredError'
  }
}

export interface InstallDeps {
  db: Database
  secrets: SecretBox
  states: OAuthStates
  log: Logger
  publicUrl: string
  hubspot?: { oauth: HubSpotOAuth; requiredScopes: string[]; optionalScopes: string[] }
  salesforce?: { oauth: SalesforceOAuth }
}

export class InstallService {
  readonly #d: InstallDeps

  constructor(deps: InstallDeps) {
    this.#d = deps
  }

  redirectUri(crm: 'hubspot' | 'salesforce'): string {
    return `${this.#d.publicUrl}/oauth/${crm}/callback`
  }

  #hubspot() {
    if (!this.#d.hubspot) throw new CrmNotConfiguredError('HubSpot', 'HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET')
    return this.#d.hubspot
  }

  #salesforce() {
    if (!this.#d.salesforce) throw new CrmNotConfiguredError('Salesforce', 'SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET')
    return this.#d.salesforce
  }

  async beginHubSpot(): Promise<string> {
    const hs = this.#hubspot()
    const state = await this.#d.states.issue('hubspot')
    return hs.oauth.authorizeUrl({ redirectUri: this.redirectUri('hubspot'), scopes: hs.requiredScopes, optionalScopes: hs.optionalScopes, state })
  }

  async completeHubSpot(code: string, state: string | undefined): Promise<Installation> {
    const hs = this.#hubspot()
    await this.#d.states.consume('hubspot', state)
    const grant = await hs.oauth.exchangeCode({ code, redirectUri: this.redirectUri('hubspot') })
    const missing = hs.requiredScopes.filter((s) => !grant.scopes.includes(s))
    const { installation, created } = await saveInstallation(this.#d.db, {
      crm: 'hubspot',
      accountId: grant.hubId,
      accountName: grant.hubDomain,
      scopes: grant.scopes,
      missingScopes: missing,
      userId: grant.userId,
      instanceUrl: null,
      loginUrl: null,
      accessTokenSealed: this.#d.secrets.seal(grant.accessToken),
      refreshTokenSealed: grant.refreshToken ? this.#d.secrets.seal(grant.refreshToken) : null,
      accessTokenExpiresAt: grant.expiresInSeconds ? new Date(Date.now() + grant.expiresInSeconds * 1000) : null,
    })
    this.#d.log.info({ installationId: installation.id, crm: 'hubspot', created, missingScopes: missing }, 'HubSpot portal installed')
    return installation
  }

  async beginSalesforce(login: string | undefined): Promise<string> {
    const sf = this.#salesforce()
    const loginUrl = sf.oauth.loginHost(login ?? 'production')
    // PKCE: the verifier is kept (encrypted) with the single-use state until the callback.
    const codeVerifier = randomBytes(48).toString('base64url')
    const state = await this.#d.states.issue('salesforce', { loginUrl, codeVerifier })
    return sf.oauth.authorizeUrl({ loginUrl, redirectUri: this.redirectUri('salesforce'), state, codeVerifier })
  }

  async completeSalesforce(code: string, state: string | undefined): Promise<Installation> {
    const sf = this.#salesforce()
    const stored = await this.#d.states.consume('salesforce', state)
    const loginUrl = stored.loginUrl!
    const grant = await sf.oauth.exchangeCode({ loginUrl, code, redirectUri: this.redirectUri('salesforce'), codeVerifier: stored.codeVerifier! })
    const { installation, created } = await saveInstallation(this.#d.db, {
      crm: 'salesforce',
      accountId: grant.orgId,
      accountName: null,
      scopes: grant.scopes,
      missingScopes: grant.refreshToken ? [] : ['refresh_token'],
      userId: grant.userId,
      instanceUrl: grant.instanceUrl,
      loginUrl,
      accessTokenSealed: this.#d.secrets.seal(grant.accessToken),
      refreshTokenSealed: grant.refreshToken ? this.#d.secrets.seal(grant.refreshToken) : null,
      accessTokenExpiresAt: null,
    })
    this.#d.log.info({ installationId: installation.id, crm: 'salesforce', created }, 'Salesforce org installed')
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
        if (i.crm === 'hubspot') await this.#hubspot().oauth.revoke(token)
        else await this.#salesforce().oauth.revoke({ loginUrl: i.loginUrl ?? '', token })
        revoked = true
      } catch (error) {
        revokeError = (error as Error).message
        this.#d.log.warn({ installationId: i.id, crm: i.crm, err: error }, 'token revocation at the CRM failed; erasing the tokens anyway')
      }
    }
    await this.#d.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE installations SET status = 'uninstalled', access_token_enc = NULL, refresh_token_enc = NULL,
           access_token_expires_at = NULL, uninstalled_at = now(), updated_at = now() WHERE id = $1`,
        [i.id],
      )
      await recordInstallationEvent(tx, i.id, 'uninstalled', { revoked, ...(revokeError ? { revokeError } : {}) })
    })
    return { installation: (await findInstallation(this.#d.db, id))!, revoked }
  }
}
