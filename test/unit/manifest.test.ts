import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import type { EngagementKind } from '../../crm-adapters/crm-adapter.ts'
import {
  absoluteUrl,
  connectorRoutes,
  engagementEventTypes,
  ENGAGEMENT_KINDS,
  loadManifest,
  ManifestError,
  parseManifest,
  salesforceMessageIdField,
  templateReferences,
  type Manifest,
} from '../../connector/manifest/manifest.ts'
import { timelineEventTemplate, webhookSubscriptionGroup, webhookSubscriptionRequests, workflowActionDefinition } from '../../connector/manifest/hubspot-shapes.ts'

const root = new URL('../../', import.meta.url).pathname
const sfdx = join(root, 'ui-extensions/salesforce')
const sfSource = join(sfdx, 'force-app/main/default')
const read = (path: string) => readFileSync(path, 'utf8')
const m = loadManifest()
const sf = m.salesforce
const eventType = (kind: EngagementKind) => m.hubspot.engagementEvents.find((e) => e.kind === kind)!
const sendWhatsAppAction = m.hubspot.workflowActions.find((a) => a.uid === 'send-whatsapp-template')!
const customFields = (object: string) => sf.customFields.filter((f) => f.object === object)

function clone(): Manifest {
  return structuredClone(m) as Manifest
}

/** The manifest with every workflow action, card and the Flow action marked served (or not). */
function withServed(manifest: Manifest, served: boolean): Manifest {
  const draft = structuredClone(manifest) as Manifest
  for (const entry of [...draft.hubspot.workflowActions, ...draft.hubspot.cards, draft.salesforce.invocableAction]) entry.served = served
  return draft
}

function problemsOf(change: (draft: Manifest) => void): string[] {
  const draft = clone()
  change(draft)
  try {
    parseManifest(draft)
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError)
    return (error as ManifestError).problems
  }
  throw new Error('parseManifest accepted the manifest')
}

/** The text of one XML element (first occurrence), or undefined. */
function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]
}

function tags(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((match) => match[1] ?? '')
}

describe('manifest.json', () => {
  test('loads and validates (schema and cross-references)', () => {
    expect(() => loadManifest()).not.toThrow()
    expect(m.manifestVersion).toBe(1)
  })

  test('declares one engagement event type per kind, in timeline order', () => {
    expect(engagementEventTypes(m).map((e) => e.kind)).toEqual(ENGAGEMENT_KINDS)
    expect(ENGAGEMENT_KINDS).toEqual(['sent', 'delivered', 'read', 'replied', 'failed', 'opted_out', 'opted_in'])
    for (const kind of ENGAGEMENT_KINDS) {
      const names = eventType(kind).properties.map((p) => p.name)
      expect(names).toEqual(expect.arrayContaining(['template_name', 'business_number', 'status', 'message_text']))
    }
    expect(eventType('failed').properties.map((p) => p.name)).toEqual(expect.arrayContaining(['error_code', 'error_title']))
  })

  test('asks HubSpot only for the scopes the features use, oauth and timeline required', () => {
    const { requiredScopes: required, optionalScopes: optional } = m.hubspot
    expect(required).toEqual(expect.arrayContaining(['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.lists.read', 'crm.schemas.contacts.write', 'timeline', 'automation']))
    expect(required.filter((s) => optional.includes(s))).toEqual([])
    // WhatsApp consent has no place in HubSpot's subscription APIs (EMAIL only), so no communication_preferences scopes.
    expect(optional).toEqual([])
    expect([...required, ...optional].filter((s) => s.startsWith('communication_preferences'))).toEqual([])
    expect(required).not.toContain('crm.lists.write')
  })

  test('watches the consent and phone properties, deletions and privacy deletions', () => {
    expect(m.hubspot.properties.consentProperty).toBe('whatsapp_opt_in')
    expect(m.hubspot.properties.phoneProperties).toEqual(['hs_whatsapp_phone_number', 'mobilephone', 'phone'])
    const subscriptions = webhookSubscriptionRequests(m)
    const watched = subscriptions.filter((s) => s.eventType === 'contact.propertyChange').map((s) => s.propertyName)
    expect(watched.sort()).toEqual(['hs_whatsapp_phone_number', 'mobilephone', 'phone', 'whatsapp_opt_in'])
    const types = subscriptions.map((s) => s.eventType)
    expect(types).toContain('contact.deletion')
    expect(types).toContain('contact.privacyDeletion')
    expect(subscriptions.every((s) => s.active)).toBe(true)
    expect(webhookSubscriptionGroup('contact.privacyDeletion')).toBe('hubEvents')
    expect(webhookSubscriptionGroup('contact.propertyChange')).toBe('legacyCrmObjects')
    expect(webhookSubscriptionGroup('object.creation')).toBe('crmObjects')
  })

  test('declares the opt-in properties in the whatsapp group, boolean opt-in as HubSpot expects', () => {
    expect(m.hubspot.properties.group.name).toBe('whatsapp')
    const contact = m.hubspot.properties.contact
    const optIn = contact.find((p) => p.name === 'whatsapp_opt_in')
    expect(optIn).toMatchObject({ type: 'enumeration', fieldType: 'booleancheckbox' })
    expect(optIn?.options?.map((o) => o.value)).toEqual(['true', 'false'])
    expect(contact.map((p) => p.name)).toEqual(['whatsapp_opt_in', 'whatsapp_opt_in_date', 'whatsapp_opt_in_source', 'whatsapp_bsuid'])
    expect(contact.find((p) => p.name === m.hubspot.properties.userIdProperty)).toMatchObject({ name: 'whatsapp_bsuid', type: 'string' })
    expect(contact.find((p) => p.name === m.hubspot.properties.consentDateProperty)).toMatchObject({ name: 'whatsapp_opt_in_date', type: 'datetime' })
    expect(contact.find((p) => p.name === m.hubspot.properties.consentSourceProperty)).toMatchObject({ name: 'whatsapp_opt_in_source', type: 'string' })
  })

  test('lists every connector route the CRM-side packages call (CONTRACT.md paths), those not served yet left out', () => {
    const routes = (served: boolean) => connectorRoutes(withServed(m, served)).map((r) => `${r.method} ${r.path}`)
    const always = ['GET /oauth/hubspot/callback', 'POST /webhooks/hubspot', 'GET /oauth/salesforce/callback']
    expect(routes(false).sort()).toEqual([...always].sort())
    const all = routes(true)
    expect(all.sort()).toEqual(
      [
        ...always,
        'POST /hubspot/actions/send-whatsapp',
        'POST /hubspot/actions/send-whatsapp/options',
        'GET /cards/hubspot/contact',
        'POST /salesforce/actions/send-whatsapp',
      ].sort(),
    )
    expect(new Set(all).size).toBe(all.length)
  })

  test('the workflow action takes the inputs the fixture request carries and asks for the phone and consent properties', () => {
    const request = JSON.parse(read(join(root, 'test/fixtures/hubspot/workflow-action-request.json'))) as { inputFields: Record<string, string>; object: { properties: Record<string, string> } }
    const action = sendWhatsAppAction
    const inputs = action.inputFields.map((f) => f.typeDefinition.name)
    for (const name of Object.keys(request.inputFields)) expect(inputs).toContain(name)
    for (const name of Object.keys(request.object.properties)) expect(action.objectRequestOptions?.properties).toContain(name)
    const body = workflowActionDefinition(action, 'https://connector.test/')
    expect(body).toMatchObject({ actionUrl: 'https://connector.test/hubspot/actions/send-whatsapp', published: true, objectTypes: ['CONTACT'], functions: [] })
    const templateField = (body.inputFields as { typeDefinition: Record<string, unknown> }[])[0]?.typeDefinition
    expect(templateField).toMatchObject({ name: 'template_name', optionsUrl: 'https://connector.test/hubspot/actions/send-whatsapp/options' })
    expect(templateField).not.toHaveProperty('optionsPath')
  })

  test('legacy timeline templates carry the event properties as tokens', () => {
    const template = timelineEventTemplate(eventType('failed'))
    expect(template).toMatchObject({ name: 'WhatsApp message failed', objectType: 'contacts' })
    expect((template.tokens as { name: string }[]).map((t) => t.name)).toEqual(eventType('failed').properties.map((p) => p.name))
  })

  test('absoluteUrl joins PUBLIC_URL and a path', () => {
    expect(absoluteUrl('https://c.example.com/', '/cards/hubspot/contact')).toBe('https://c.example.com/cards/hubspot/contact')
    expect(absoluteUrl('https://c.example.com/base', 'x')).toBe('https://c.example.com/base/x')
  })

  test('templateReferences finds properties, not helpers or built-ins', () => {
    expect(templateReferences('{{#if template_name}}**{{template_name}}**{{else}}x{{/if}} {{#formatDate timestamp}}{{/formatDate}} {{ status }} {{{message_text}}}').sort()).toEqual(['message_text', 'status', 'template_name'])
  })
})

describe('manifest validation', () => {
  test('rejects schema errors with their paths', () => {
    const problems = problemsOf((d) => {
      ;(d.hubspot as Record<string, unknown>).extra = true
      d.hubspot.cards[0]!.location = 'crm.sideways' as never
    })
    expect(problems.some((p) => p.includes('/hubspot'))).toBe(true)
    expect(problems.some((p) => p.includes('/hubspot/cards/0/location'))).toBe(true)
  })

  test('needs every engagement kind exactly once', () => {
    const problems = problemsOf((d) => {
      d.hubspot.engagementEvents = d.hubspot.engagementEvents.filter((e) => e.kind !== 'read')
    })
    expect(problems).toContain('hubspot.engagementEvents must declare engagement kind read exactly once (found 0)')
  })

  test('rejects templates that use undeclared properties', () => {
    const problems = problemsOf((d) => {
      d.hubspot.engagementEvents[0]!.headerTemplate = 'Sent {{template}}'
    })
    expect(problems).toEqual([expect.stringContaining('headerTemplate refers to {{template}}')])
  })

  test('rejects overlapping scopes and missing feature scopes', () => {
    const problems = problemsOf((d) => {
      d.hubspot.optionalScopes.push('crm.lists.read')
      d.hubspot.requiredScopes = d.hubspot.requiredScopes.filter((s) => s !== 'timeline' && s !== 'automation')
    })
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('crm.lists.read is declared twice'),
        expect.stringContaining('must include timeline'),
        expect.stringContaining('must include automation'),
      ]),
    )
  })

  test('needs a propertyChange subscription on the consent property', () => {
    const problems = problemsOf((d) => {
      d.hubspot.webhooks.subscriptions = d.hubspot.webhooks.subscriptions.filter((s) => s.propertyName !== 'whatsapp_opt_in')
    })
    expect(problems).toEqual([expect.stringContaining('contact.propertyChange subscription on whatsapp_opt_in')])
  })

  test('keeps Contact and Lead fields in step and Text fields sized', () => {
    const problems = problemsOf((d) => {
      d.salesforce.customFields = d.salesforce.customFields.filter((f) => !(f.object === 'Lead' && f.fullName === 'WhatsApp_Number__c'))
      const text = d.salesforce.customFields.find((f) => f.type === 'Text')!
      delete text.length
    })
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining('Contact and Lead must carry the same'), expect.stringContaining('Text fields need a length')]))
  })

  test('needs every route-bearing entry to say whether the connector serves it', () => {
    const problems = problemsOf((d) => {
      delete (d.hubspot.cards[0] as Partial<Manifest['hubspot']['cards'][number]>).served
      delete (d.salesforce.invocableAction as Partial<Manifest['salesforce']['invocableAction']>).served
    })
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining('/hubspot/cards/0/served'), expect.stringContaining('/salesforce/invocableAction/served')]))
  })

  test('the consent properties and fields must be declared ones of the right type', () => {
    const problems = problemsOf((d) => {
      d.hubspot.properties.consentDateProperty = 'whatsapp_consent_at'
      d.hubspot.properties.consentSourceProperty = 'whatsapp_consent_from'
      d.salesforce.consentDateField = 'WhatsApp_Opt_In_Source__c'
    })
    expect(problems).toEqual([
      'hubspot.properties.consentDateProperty whatsapp_consent_at is not one of the declared contact properties',
      'hubspot.properties.consentSourceProperty whatsapp_consent_from is not one of the declared contact properties',
      'salesforce.consentDateField WhatsApp_Opt_In_Source__c is not a DateTime field of Contact',
      'salesforce.consentDateField WhatsApp_Opt_In_Source__c is not a DateTime field of Lead',
    ])
  })

  test('needs exactly one external id field on Activity, the one Tasks are upserted on', () => {
    const problems = problemsOf((d) => {
      const messageId = d.salesforce.customFields.find((f) => f.object === 'Activity')!
      d.salesforce.customFields.push({ ...messageId, fullName: 'WhatsApp_Other_Id__c' })
    })
    expect(problems).toEqual(['salesforce.customFields must declare exactly one external id field on Activity (found 2)'])
  })

  test('reports unreadable files as a ManifestError', () => {
    expect(() => loadManifest(join(root, 'does-not-exist.json'))).toThrow(ManifestError)
  })
})

describe('Salesforce package agrees with manifest.json', () => {
  const fieldFile = (object: string, name: string) => join(sfSource, 'objects', object, 'fields', `${name}.field-meta.xml`)

  test('sfdx-project.json uses the manifest API version', () => {
    const project = JSON.parse(read(join(sfdx, 'sfdx-project.json'))) as { sourceApiVersion: string; packageDirectories: { path: string }[] }
    expect(project.sourceApiVersion).toBe(m.salesforce.apiVersion)
    expect(project.packageDirectories.map((p) => p.path)).toContain('force-app')
  })

  test('every manifest custom field has a field-meta.xml that matches it', () => {
    for (const field of sf.customFields) {
      const path = fieldFile(field.object, field.fullName)
      expect(existsSync(path), `${field.object}.${field.fullName}: ${path} is missing`).toBe(true)
      const xml = read(path)
      const where = `${field.object}.${field.fullName}`
      expect(tag(xml, 'fullName'), where).toBe(field.fullName)
      expect(tag(xml, 'label'), where).toBe(field.label)
      expect(tag(xml, 'type'), where).toBe(field.type)
      expect(tag(xml, 'length'), where).toBe(field.length === undefined ? undefined : String(field.length))
      expect(tag(xml, 'defaultValue'), where).toBe(field.defaultValue === undefined ? undefined : String(field.defaultValue))
      expect(tag(xml, 'externalId') ?? 'false', where).toBe(String(field.externalId ?? false))
      expect(tag(xml, 'unique') ?? 'false', where).toBe(String(field.unique ?? false))
      if (field.caseSensitive !== undefined) expect(tag(xml, 'caseSensitive'), where).toBe(String(field.caseSensitive))
    }
  })

  test('every field-meta.xml in the package is declared in the manifest', () => {
    const objectsDir = join(sfSource, 'objects')
    const onDisk = readdirSync(objectsDir).flatMap((object) => {
      const dir = join(objectsDir, object, 'fields')
      return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.field-meta.xml')).map((f) => `${object}.${f.replace('.field-meta.xml', '')}`) : []
    })
    expect(onDisk.sort()).toEqual(sf.customFields.map((f) => `${f.object}.${f.fullName}`).sort())
  })

  test('the message id is an external, unique id on Activity (Task upserts); consent and its date are Contact/Lead fields', () => {
    expect(salesforceMessageIdField(m)).toBe('WhatsApp_Message_Id__c')
    expect(customFields('Activity')).toEqual([expect.objectContaining({ fullName: 'WhatsApp_Message_Id__c', type: 'Text', length: 255, externalId: true, unique: true })])
    expect(sf.consentField).toBe('WhatsApp_Opt_In__c')
    expect(sf.consentDateField).toBe('WhatsApp_Opt_In_Date__c')
    expect(sf.userIdField).toBe('WhatsApp_BSUID__c')
    for (const object of ['Contact', 'Lead']) expect(customFields(object)).toEqual(expect.arrayContaining([expect.objectContaining({ fullName: sf.userIdField, type: 'Text', externalId: true })]))
    for (const object of ['Contact', 'Lead']) {
      expect(customFields(object)).toEqual(expect.arrayContaining([expect.objectContaining({ fullName: sf.consentField, type: 'Checkbox' }), expect.objectContaining({ fullName: sf.consentDateField, type: 'DateTime' })]))
    }
  })

  test('the permission set grants every field, every Apex class and the credential principal', () => {
    const ps = sf.permissionSet
    const xml = read(join(sfSource, 'permissionsets', `${ps.name}.permissionset-meta.xml`))
    expect(tag(xml, 'label')).toBe(ps.label)
    // Task and Event custom fields live on Activity; permission sets name them Task.<field>.
    const expected = sf.customFields.map((f) => `${f.object === 'Activity' ? 'Task' : f.object}.${f.fullName}`).sort()
    expect(tags(xml, 'field').sort()).toEqual(expected)
    expect(xml.match(/<editable>true<\/editable>/g)?.length).toBe(expected.length)
    expect(tags(xml, 'apexClass').sort()).toEqual([...ps.apexClasses].sort())
    const nc = sf.namedCredential
    expect(tags(xml, 'externalCredentialPrincipal')).toEqual([`${nc.externalCredential}-${nc.principal}`])
  })

  test('every Apex class in the manifest exists with metadata and a test class', () => {
    for (const name of sf.permissionSet.apexClasses) {
      for (const file of [`${name}.cls`, `${name}.cls-meta.xml`, `${name}Test.cls`, `${name}Test.cls-meta.xml`]) {
        expect(existsSync(join(sfSource, 'classes', file)), file).toBe(true)
      }
      expect(tag(read(join(sfSource, 'classes', `${name}.cls-meta.xml`)), 'apiVersion')).toBe(m.salesforce.apiVersion)
      expect(read(join(sfSource, 'classes', `${name}Test.cls`))).toContain('@IsTest')
    }
  })

  test('the invocable action calls the connector route through the named credential', () => {
    const action = sf.invocableAction
    const nc = sf.namedCredential
    const apex = read(join(sfSource, 'classes', `${action.apexClass}.cls`))
    expect(apex).toContain(`'callout:${nc.name}${action.path}'`)
    expect(apex).toContain('@InvocableMethod')
    expect(apex).toMatch(/global\s+(with sharing\s+)?class\s+SendWhatsAppAction/)
    expect(apex).toContain('Database.AllowsCallouts')
    expect(apex).toContain(`MAX_REQUESTS_PER_CALLOUT = ${action.maxRequestsPerCallout}`)
    const test = read(join(sfSource, 'classes', `${action.apexClass}Test.cls`))
    expect(test).toContain('HttpCalloutMock')
    expect(test).toContain(`callout:${nc.name}${action.path}`)
  })

  test('the activity controller is cacheable, runs in user mode and reads the message id field', () => {
    const apex = read(join(sfSource, 'classes', 'WhatsAppActivityController.cls'))
    expect(apex).toContain('@AuraEnabled(cacheable=true)')
    expect(apex).toMatch(/USER_MODE/)
    expect(apex).toContain(salesforceMessageIdField(m))
    for (const field of customFields('Contact')) expect(apex).toContain(field.fullName)
  })

  test('named and external credentials carry the connector URL and the per-installation key header', () => {
    const nc = sf.namedCredential
    const named = read(join(sfSource, 'namedCredentials', `${nc.name}.namedCredential-meta.xml`))
    expect(tag(named, 'label')).toBe(nc.label)
    expect(tag(named, 'namedCredentialType')).toBe('SecuredEndpoint')
    expect(tag(named, 'externalCredential')).toBe(nc.externalCredential)
    expect(tag(named, 'parameterValue')).toMatch(/^https:\/\//)
    expect(tag(named, 'allowMergeFieldsInBody')).toBe('false')
    const external = read(join(sfSource, 'externalCredentials', `${nc.externalCredential}.externalCredential-meta.xml`))
    expect(tag(external, 'authenticationProtocol')).toBe('Custom')
    expect(external).toContain(`<parameterName>${nc.principal}</parameterName>`)
    expect(external).toContain(`<parameterName>${nc.keyHeader}</parameterName>`)
    expect(external).toContain(`{!$Credential.${nc.externalCredential}.${nc.keyParameter}}`)
  })

  test('the LWC is exposed on the record pages of the manifest objects and has a jest test', () => {
    for (const component of m.salesforce.lightningComponents) {
      const dir = join(sfSource, 'lwc', component.name)
      const meta = read(join(dir, `${component.name}.js-meta.xml`))
      expect(tag(meta, 'isExposed')).toBe('true')
      expect(tag(meta, 'apiVersion')).toBe(m.salesforce.apiVersion)
      expect(tags(meta, 'target')).toContain('lightning__RecordPage')
      expect(tags(meta, 'object').sort()).toEqual([...component.objects].sort())
      const js = read(join(dir, `${component.name}.js`))
      expect(js).toContain(`@salesforce/apex/${component.controller}.`)
      expect(existsSync(join(dir, `${component.name}.html`))).toBe(true)
      expect(existsSync(join(dir, '__tests__', `${component.name}.test.js`))).toBe(true)
    }
  })

  test('all metadata files use the manifest API version', () => {
    const files: string[] = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, name.name)
        if (name.isDirectory()) walk(path)
        else if (name.name.endsWith('-meta.xml')) files.push(path)
      }
    }
    walk(sfSource)
    for (const file of files) {
      const version = tag(read(file), 'apiVersion')
      if (version !== undefined) expect(version, file).toBe(m.salesforce.apiVersion)
    }
  })
})

describe('HubSpot project agrees with manifest.json', () => {
  test('app-hsmeta.json declares exactly the manifest scopes', () => {
    const app = JSON.parse(read(join(root, 'ui-extensions/hubspot/src/app/app-hsmeta.json'))) as { config: { auth: { type: string; requiredScopes: string[]; optionalScopes: string[] } } }
    expect(app.config.auth.type).toBe('oauth')
    expect(app.config.auth.requiredScopes).toEqual(m.hubspot.requiredScopes)
    expect(app.config.auth.optionalScopes).toEqual(m.hubspot.optionalScopes)
  })
})
