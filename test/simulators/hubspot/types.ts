// Domain records kept in memory by the simulator. Wire shapes are built from these in the route modules.
import type { PhoneCountry, PhoneFormat } from './phone-numbers.ts'

export interface App {
  appId: number
  clientId: string
  clientSecret: string
  developerApiKey: string
  redirectUris: string[]
  /** Scopes declared in the app settings; null = accept any scope in the authorize URL. */
  declaredScopes: string[] | null
  webhookSettings: WebhookSettings | null
  webhookSubscriptions: Map<string, WebhookSubscription>
  actionDefinitions: Map<string, ActionDefinition>
  eventTypes: Map<string, AppEventType>
  timelineTemplates: Map<string, TimelineTemplate>
}

export interface WebhookSettings {
  targetUrl: string
  maxConcurrentRequests: number
  createdAt: number
  updatedAt: number
}

export interface WebhookSubscription {
  id: string
  eventType: string
  propertyName?: string
  objectTypeId?: string
  active: boolean
  createdAt: number
  updatedAt: number
}

export interface ActionDefinition {
  id: string
  revision: number
  body: Record<string, unknown>
  archivedAt: number | null
}

export type AppEventPropertyType = 'string' | 'number' | 'boolean' | 'date' | 'datetime' | 'enumeration'

export interface AppEventType {
  name: string
  objectType: string
  properties: { name: string; type: AppEventPropertyType; options?: string[]; required?: boolean }[]
}

export interface TimelineTemplate {
  id: string
  body: Record<string, unknown>
  tokens: { name: string; label: string; type: string; options?: { value: string }[]; objectPropertyName?: string }[]
  createdAt: number
  updatedAt: number
}

export interface Portal {
  portalId: number
  domain: string
  /** Scopes the installing user can grant in this account. */
  grantableScopes: Set<string>
  userId: number
  userEmail: string
  contacts: Map<number, Contact>
  /** Contacts by ascending id: search scans this array instead of the Map. */
  contactOrder: Contact[]
  nextContactId: number
  /** Counts seed()/mutate() calls so each default-seeded call differs yet stays reproducible. */
  generation: number
  lists: Map<string, CrmList>
  nextListId: number
  properties: Map<string, PropertyDefinition>
  propertyGroups: Map<string, PropertyGroup>
  communications: Map<string, Communication>
  nextCommunicationId: number
  appEvents: AppEventOccurrence[]
  /** `${appId}:${eventTypeName}:${id}` of stored occurrences, for O(1) duplicate checks. */
  appEventKeys: Set<string>
  timelineEvents: TimelineEventRecord[]
  /** `${eventTemplateId}:${id}` of stored legacy timeline events. */
  timelineEventKeys: Set<string>
  /** Conditional required properties, enforced on 2026-09+ writes only. */
  validationRules: ContactValidationRule[]
}

export interface Contact {
  id: number
  createdAt: number
  updatedAt: number
  properties: Record<string, string>
  /** Ground truth from seeding, for tests that score phone normalisation; never served over the API. */
  phoneTruth?: PhoneTruth
}

export interface PhoneTruth {
  country: PhoneCountry
  format: PhoneFormat
  /** The mobile number a correct normaliser should produce, or null when there is none. */
  e164: string | null
}

export type ProcessingType = 'MANUAL' | 'DYNAMIC' | 'SNAPSHOT'

export interface CrmList {
  listId: string
  name: string
  processingType: ProcessingType
  listVersion: number
  createdAt: number
  updatedAt: number
  /** recordId → membershipTimestamp (ms). */
  members: Map<number, number>
  /** Sorted views, dropped whenever membership changes and rebuilt on the next read. */
  byRecordId: number[] | null
  byJoinOrder: number[] | null
}

export interface PropertyDefinition {
  name: string
  label: string
  type: string
  fieldType: string
  groupName: string
  description: string
  options: { label: string; value: string; displayOrder: number; hidden: boolean; description?: string }[]
  hubspotDefined: boolean
  readOnly: boolean
  hasUniqueValue: boolean
  displayOrder: number
  formField: boolean
  createdAt: number
  updatedAt: number
}

export interface PropertyGroup {
  name: string
  label: string
  displayOrder: number
}

export interface Communication {
  id: string
  appId: number
  createdAt: number
  updatedAt: number
  properties: Record<string, string>
  contactIds: number[]
}

export interface AppEventOccurrence {
  appId: number
  eventTypeName: string
  id: string
  objectId: string
  timestamp: string
  properties: Record<string, unknown>
  createdAt: number
}

export interface TimelineEventRecord {
  appId: number
  eventTemplateId: string
  id: string
  objectId: string
  tokens: Record<string, unknown>
  timestamp: string
  extraData?: unknown
  timelineIFrame?: unknown
  createdAt: number
}

/**
 * An admin-configured rule HubSpot enforces on CRM API writes from the 2026-09 version on: the
 * record must carry `property` once `when.property` has `when.value`
 * (https://developers.hubspot.com/changelog/crm-api-write-validation-enforcement).
 */
export interface ContactValidationRule {
  property: string
  when: { property: string; value: string }
}

export interface AccessToken {
  token: string
  appId: number
  portalId: number
  scopes: string[]
  userId: number
  issuedAt: number
  expiresAt: number
  revoked: boolean
}

export interface RefreshToken {
  token: string
  appId: number
  portalId: number
  scopes: string[]
  userId: number
  revoked: boolean
}

export interface AuthorizationCode {
  code: string
  appId: number
  portalId: number
  redirectUri: string
  scopes: string[]
  expiresAt: number
  codeChallenge: { value: string; method: 'S256' | 'plain' } | null
}

export interface WorkflowCallback {
  callbackId: string
  appId: number
  portalId: number
  definitionId: string
  objectId: number
  /** Synchronous answer from the action URL, then every completion received via the API. */
  syncResponse: unknown
  completions: { outputFields: Record<string, unknown>; receivedAt: number }[]
}

export interface WebhookDelivery {
  targetUrl: string
  appId: number
  events: Record<string, unknown>[]
  headers: Record<string, string>
  body: string
  status: number | null
  responseBody: string
  error: string | null
}
