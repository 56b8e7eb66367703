import { createHash } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { CrmProviders, type ProviderOptions } from '../../crm-adapters/registry.ts'
import { signedHeaders } from '../simulators/hubspot/signatures.ts'

// The registry and what each provider answers before any HTTP: the consent-screen URLs, and the
// HubSpot v3 signature check on raw bytes (against the simulator's own signer).

const options: ProviderOptions = {
  hubspot: {
    credentials: { clientId: 'hs-client', clientSecret: 'hs-secret' },
    apiBase: 'https://api.hubapi.com', authUrl: 'https://app.hubspot.com/oauth/authorize',
    requiredScopes: ['oauth', 'crm.objects.contacts.read'], optionalScopes: ['timeline'],
    consentProperty: 'whatsapp_opt_in', consentDateProperty: 'whatsapp_opt_in_date', consentSourceProperty: 'whatsapp_opt_in_source', setupHint: 'set HUBSPOT_CLIENT_ID',
    properties: { group: { name: 'whatsapp', label: 'WhatsApp', displayOrder: -1 }, contact: [{ name: 'whatsapp_opt_in_source', label: 'WhatsApp opt-in source', type: 'string', fieldType: 'text' }] },
  },
  salesforce: {
    credentials: { clientId: 'sf-client', clientSecret: 'sf-secret' },
    loginUrl: 'https://login.salesforce.com', scopes: ['api', 'refresh_token', 'id'], dailyLimitFraction: 0.9, setupHint: 'set SALESFORCE_CLIENT_ID',
    apiVersion: '62.0', fields: { optIn: 'WhatsApp_Opt_In__c', optInDate: 'WhatsApp_Opt_In_Date__c', messageId: 'WhatsApp_Message_Id__c' },
  },
}

describe('CrmProviders', () => {
  const providers = CrmProviders.create(options)

  test('finds each provider by kind and by the source types it serves', () => {
    expect(providers.all().map((p) => p.kind)).toEqual(['hubspot', 'salesforce'])
    expect(providers.forSourceType('hubspot_list')?.kind).toBe('hubspot')
    expect(providers.forSourceType('salesforce_report')?.kind).toBe('salesforce')
    expect(providers.find('pipedrive')).toBeUndefined()
    expect(() => providers.get('pipedrive' as 'hubspot')).toThrow(/no CRM provider/)
  })

  test('a CRM without client credentials has no install flow and checks no signature', () => {
    const bare = CrmProviders.create({ hubspot: { ...options.hubspot, credentials: undefined }, salesforce: { ...options.salesforce, credentials: undefined } })
    expect(bare.get('hubspot').oauth).toBeUndefined()
    expect(bare.get('hubspot').verifyRequest).toBeUndefined()
    expect(bare.get('salesforce').oauth).toBeUndefined()
  })

  test('HubSpot: required and optional scopes space-separated, no PKCE', () => {
    const start = providers.get('hubspot').oauth!.authorize({ redirectUri: 'https://c.example/oauth/hubspot/callback', state: 's1' })
    const url = new URL(start.url)
    expect(url.origin + url.pathname).toBe('https://app.hubspot.com/oauth/authorize')
    expect(url.searchParams.get('scope')).toBe('oauth crm.objects.contacts.read')
    expect(url.searchParams.get('optional_scope')).toBe('timeline')
    expect(url.searchParams.get('state')).toBe('s1')
    expect(start).toMatchObject({ loginUrl: null, codeVerifier: null })
  })

  test('Salesforce: the login host the install names, with an S256 PKCE challenge of the verifier it keeps', () => {
    const oauth = providers.get('salesforce').oauth!
    const start = oauth.authorize({ redirectUri: 'https://c.example/oauth/salesforce/callback', state: 's2', login: 'sandbox' })
    const url = new URL(start.url)
    expect(start.loginUrl).toBe('https://test.salesforce.com')
    expect(url.origin).toBe('https://test.salesforce.com')
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('code_challenge')).toBe(createHash('sha256').update(start.codeVerifier!).digest('base64url'))
    expect(url.searchParams.get('scope')).toBe('api refresh_token id')
    expect(() => oauth.authorize({ redirectUri: 'https://c.example/cb', state: 's3', login: 'https://evil.example.com' })).toThrow(/not a Salesforce login/)
  })

  describe('HubSpot v3 request signature', () => {
    const verify = providers.get('hubspot').verifyRequest!
    const url = 'https://connector.example/webhooks/hubspot?x=1'
    const body = '[{"eventId":1,"propertyValue":"café"}]'
    const now = 1_767_000_000_000

    test('accepts HubSpot\'s signature over the exact bytes, method and URL', () => {
      const headers = signedHeaders('v2', 'hs-secret', 'POST', url, body, now)
      expect(verify({ method: 'POST', url, rawBody: Buffer.from(body), headers, now })).toBeUndefined()
    })

    test('refuses another body, URL, method or secret', () => {
      const headers = signedHeaders('v2', 'hs-secret', 'POST', url, body, now)
      expect(verify({ method: 'POST', url, rawBody: Buffer.from(body.replace('1', '2')), headers, now })).toBe('mismatch')
      expect(verify({ method: 'POST', url: `${url}&y=2`, rawBody: Buffer.from(body), headers, now })).toBe('mismatch')
      expect(verify({ method: 'GET', url, rawBody: Buffer.from(body), headers, now })).toBe('mismatch')
      const other = signedHeaders('v2', 'other-secret', 'POST', url, body, now)
      expect(verify({ method: 'POST', url, rawBody: Buffer.from(body), headers: other, now })).toBe('mismatch')
    })

    test('refuses a timestamp more than 5 minutes away, and a missing signature', () => {
      const headers = signedHeaders('v2', 'hs-secret', 'POST', url, body, now - 5 * 60_000 - 1)
      expect(verify({ method: 'POST', url, rawBody: Buffer.from(body), headers, now })).toBe('stale')
      expect(verify({ method: 'POST', url, rawBody: Buffer.from(body), headers: {}, now })).toBe('missing')
      expect(verify({ method: 'POST', url, rawBody: Buffer.from(body), headers: { 'x-hubspot-signature-v3': 'abc', 'x-hubspot-request-timestamp': 'soon' }, now })).toBe('missing')
    })
  })
})
