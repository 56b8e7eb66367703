import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { CrmKind } from '../../crm-adapters/crm-adapter.ts'
import type { AuthorizationStart } from '../../crm-adapters/crm-provider.ts'
import type { Queryable } from '../db/database.ts'
import type { SecretBox } from '../security/secret-box.ts'

// The OAuth `state` of an install: a random id signed with a key derived from the encryption key,
// stored with what the callback needs (PKCE verifier, login host), usable once, for 10 minutes.

export const STATE_TTL_MS = 10 * 60_000

export type StateProblem = 'missing' | 'forged' | 'unknown' | 'expired' | 'replayed' | 'wrong_crm'

export class OAuthStateError extends Error {
  readonly problem: StateProblem
  constructor(problem: StateProblem) {
    const text: Record<StateProblem, string> = {
      missing: 'The response from the CRM carries no state.',
      forged: 'The state was not issued by this connector.',
      unknown: 'The state is not known to this connector (an install link is good for 10 minutes).',
      expired: 'The install took longer than 10 minutes.',
      replayed: 'This install link was already used.',
      wrong_crm: 'The state belongs to an install with another CRM.',
    }
    super(text[problem])
    this.name = 'OAuthStateError'
    this.problem = problem
  }
}

export interface StoredState {
  crm: CrmKind
  loginUrl: string | null
  codeVerifier: string | null
}

function signature(key: Buffer, id: string): string {
  return createHmac('sha256', key).update(`oauth-state:${id}`).digest('base64url')
}

export class OAuthStates {
  readonly #db: Queryable
  readonly #secrets: SecretBox
  readonly #key: Buffer

  constructor(db: Queryable, secrets: SecretBox, signingKey: string) {
    this.#db = db
    this.#secrets = secrets
    this.#key = createHmac('sha256', signingKey).update('oauth-state-signing').digest()
  }

  /** Issues a state, has the CRM's authorize URL built with it, keeps what the callback needs; answers the URL. */
  async issue(crm: CrmKind, authorize: (state: string) => AuthorizationStart): Promise<string> {
    const id = randomBytes(24).toString('base64url')
    const start = authorize(`${id}.${signature(this.#key, id)}`)
    await this.#db.query(
      `INSERT INTO oauth_states (id, crm, login_url, code_verifier_enc, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [id, crm, start.loginUrl, start.codeVerifier ? this.#secrets.seal(start.codeVerifier) : null, new Date(Date.now() + STATE_TTL_MS)],
    )
    // A state is good for 10 minutes; past that it is only a row to remove.
    await this.#db.query('DELETE FROM oauth_states WHERE expires_at < now()')
    return start.url
  }

  /** Checks and uses up a state; throws OAuthStateError saying what is wrong with it. */
  async consume(crm: CrmKind, state: string | undefined): Promise<StoredState> {
    if (!state) throw new OAuthStateError('missing')
    const [id, sig] = state.split('.')
    if (!id || !sig) throw new OAuthStateError('forged')
    const expected = Buffer.from(signature(this.#key, id))
    const got = Buffer.from(sig)
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new OAuthStateError('forged')
    const used = await this.#db.query<{ crm: StoredState['crm']; login_url: string | null; code_verifier_enc: string | null; expires_at: Date }>(
      `UPDATE oauth_states SET used_at = now() WHERE id = $1 AND used_at IS NULL RETURNING crm, login_url, code_verifier_enc, expires_at`,
      [id],
    )
    const row = used.rows[0]
    if (!row) {
      const known = await this.#db.query('SELECT 1 FROM oauth_states WHERE id = $1', [id])
      throw new OAuthStateError(known.rowCount ? 'replayed' : 'unknown')
    }
    if (row.expires_at.getTime() < Date.now()) throw new OAuthStateError('expired')
    if (row.crm !== crm) throw new OAuthStateError('wrong_crm')
    return { crm: row.crm, loginUrl: row.login_url, codeVerifier: row.code_verifier_enc ? this.#secrets.open(row.code_verifier_enc) : null }
  }
}
