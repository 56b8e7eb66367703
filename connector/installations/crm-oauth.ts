// The OAuth operations the install flow needs from each CRM, bound to the adapters' OAuth helpers
// in install-wiring.ts; tests may swap them.

export interface GrantedTokens {
  accessToken: string
  refreshToken: string | null
  expiresInSeconds: number | null
  scopes: string[]
}

export interface HubSpotGrant extends GrantedTokens {
  hubId: string
  hubDomain: string | null
  userId: string | null
}

export interface SalesforceGrant extends GrantedTokens {
  orgId: string
  userId: string
  instanceUrl: string
}

export interface HubSpotOAuth {
  authorizeUrl(params: { redirectUri: string; scopes: string[]; optionalScopes: string[]; state: string }): string
  exchangeCode(params: { code: string; redirectUri: string }): Promise<HubSpotGrant>
  refresh(refreshToken: string): Promise<{ accessToken: string; refreshToken: string | null; expiresInSeconds: number | null }>
  revoke(refreshToken: string): Promise<void>
}

export interface SalesforceOAuth {
  /** The login host for `production`, `sandbox` or a My Domain URL; throws on anything else. */
  loginHost(login: string): string
  /** The authorize URL with PKCE: code_challenge = base64url(SHA-256(codeVerifier)), method S256. */
  authorizeUrl(params: { loginUrl: string; redirectUri: string; state: string; codeVerifier: string }): string
  exchangeCode(params: { loginUrl: string; code: string; redirectUri: string; codeVerifier: string }): Promise<SalesforceGrant>
  refresh(params: { loginUrl: string; refreshToken: string }): Promise<{ accessToken: string; refreshToken: string | null; instanceUrl: string | null }>
  revoke(params: { loginUrl: string; token: string }): Promise<void>
}
