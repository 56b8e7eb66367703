import { KEY_PREFIX } from './ids.ts'

// The sObjects the connector touches, with the field metadata that drives SOQL validation,
// write validation and describe. Field names follow the Salesforce Object Reference.

export type FieldType =
  | 'id' | 'string' | 'textarea' | 'email' | 'phone' | 'boolean' | 'datetime' | 'date' | 'reference' | 'picklist' | 'int'

export type FieldValue = string | number | boolean | null

/** Stored record. Datetimes are epoch milliseconds, dates 'YYYY-MM-DD', ids 18 chars. */
export interface SRecord {
  Id: string
  [field: string]: FieldValue | undefined
}

/** Hidden keys on a Campaign record holding its member counts. */
export const CONTACT_COUNT = '__memberContacts'
export const LEAD_COUNT = '__memberLeads'

export type SObjectName = 'Contact' | 'Lead' | 'Campaign' | 'CampaignMember' | 'Task' | 'User'
export const SOBJECT_NAMES: readonly SObjectName[] = ['Contact', 'Lead', 'Campaign', 'CampaignMember', 'Task', 'User']

/** Resolves an id to its record (any type); derived fields use it to read related records. */
export type Lookup = (id: string) => { type: SObjectName; record: SRecord } | undefined

export interface FieldDef {
  name: string
  label: string
  type: FieldType
  length?: number
  custom: boolean
  createable: boolean
  updateable: boolean
  nillable: boolean
  /** Must be present on create (no default). */
  required: boolean
  defaultValue?: FieldValue
  picklist?: readonly string[]
  restrictedPicklist?: boolean
  referenceTo?: readonly SObjectName[]
  relationshipName?: string
  externalId?: boolean
  unique?: boolean
  caseSensitive?: boolean
  /** Long text areas cannot be filtered or sorted in SOQL. */
  filterable: boolean
  /** Read-only values computed from the record or related records (formula-like). */
  derive?: (record: SRecord, lookup: Lookup) => FieldValue
}

export interface SObjectDef {
  name: SObjectName
  label: string
  labelPlural: string
  keyPrefix: string
  fields: FieldDef[]
  byLowerName: Map<string, FieldDef>
  byLowerRelationship: Map<string, FieldDef>
}

/** What callers may add per org, e.g. namespaced package fields. */
export interface ExtraFieldInput {
  name: string
  type: Exclude<FieldType, 'id' | 'reference'>
  label?: string
  length?: number
  externalId?: boolean
  unique?: boolean
  caseSensitive?: boolean
  picklist?: string[]
}

type FieldOptions = Partial<Omit<FieldDef, 'name' | 'type'>>

function field(name: string, type: FieldType, options: FieldOptions = {}): FieldDef {
  const derived = options.derive !== undefined
  return {
    name,
    label: options.label ?? name.replace(/__c$/, '').replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2'),
    type,
    custom: name.endsWith('__c'),
    createable: !derived,
    updateable: !derived,
    nillable: type !== 'boolean',
    required: false,
    filterable: !(type === 'textarea' && (options.length ?? 0) > 255),
    ...options,
  }
}

const readOnly = { createable: false, updateable: false } as const
const systemFields = (): FieldDef[] => [
  field('Id', 'id', { label: 'Record ID', ...readOnly, nillable: false }),
  field('IsDeleted', 'boolean', { label: 'Deleted', ...readOnly, derive: () => false }),
  field('CreatedDate', 'datetime', { label: 'Created Date', ...readOnly, nillable: false }),
  field('CreatedById', 'reference', { label: 'Created By ID', ...readOnly, referenceTo: ['User'], relationshipName: 'CreatedBy' }),
  field('LastModifiedDate', 'datetime', { label: 'Last Modified Date', ...readOnly, nillable: false }),
  field('LastModifiedById', 'reference', { label: 'Last Modified By ID', ...readOnly, referenceTo: ['User'], relationshipName: 'LastModifiedBy' }),
  field('SystemModstamp', 'datetime', { label: 'System Modstamp', ...readOnly, nillable: false }),
]
const owner = (): FieldDef => field('OwnerId', 'reference', { label: 'Owner ID', referenceTo: ['User'], relationshipName: 'Owner' })

const fullName = (r: SRecord): FieldValue => [r.FirstName, r.LastName].filter((v) => typeof v === 'string' && v !== '').join(' ') || null

const personFields = (): FieldDef[] => [
  field('FirstName', 'string', { length: 40 }),
  field('LastName', 'string', { length: 80, nillable: false, required: true }),
  field('Name', 'string', { label: 'Full Name', length: 121, derive: fullName }),
  field('Title', 'string', { length: 128 }),
  field('Email', 'email', { length: 80 }),
  field('Phone', 'phone', { label: 'Business Phone', length: 40 }),
  field('MobilePhone', 'phone', { label: 'Mobile Phone', length: 40 }),
  field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', defaultValue: false }),
  field('HasOptedOutOfFax', 'boolean', { label: 'Fax Opt Out', defaultValue: false }),
  field('DoNotCall', 'boolean', { label: 'Do Not Call', defaultValue: false }),
  field('IndividualId', 'reference', { label: 'Individual ID', referenceTo: [], relationshipName: 'Individual' }),
  field('LeadSource', 'picklist', { picklist: ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'] }),
  field('WhatsApp_Opt_In__c', 'boolean', { label: 'WhatsApp Opt-In', defaultValue: false }),
  field('WhatsApp_Opt_In_Date__c', 'datetime', { label: 'WhatsApp Opt-In Date' }),
]

/** Member fields mirror the member's Contact or Lead, as on the real CampaignMember object. */
const fromMember = (name: string) => (r: SRecord, lookup: Lookup): FieldValue => {
  const memberId = (r.ContactId ?? r.LeadId) as string | null | undefined
  const found = memberId ? lookup(memberId) : undefined
  return found ? (found.record[name] ?? null) : null
}

const TASK_STATUSES = ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'] as const
const CLOSED_TASK_STATUSES = new Set<FieldValue | undefined>(['Completed'])
export const isClosedTaskStatus = (status: FieldValue | undefined): boolean => CLOSED_TASK_STATUSES.has(status)

function baseObjects(): Omit<SObjectDef, 'byLowerName' | 'byLowerRelationship'>[] {
  return [
    {
      name: 'Contact', label: 'Contact', labelPlural: 'Contacts', keyPrefix: KEY_PREFIX.Contact,
      fields: [
        ...systemFields(), owner(), ...personFields(),
        field('MailingCountry', 'string', { length: 80 }),
      ],
    },
    {
      name: 'Lead', label: 'Lead', labelPlural: 'Leads', keyPrefix: KEY_PREFIX.Lead,
      fields: [
        ...systemFields(), owner(), ...personFields(),
        field('Company', 'string', { length: 255, nillable: false, required: true }),
        field('Country', 'string', { length: 80 }),
        field('Status', 'picklist', {
          label: 'Lead Status', nillable: false, defaultValue: 'Open - Not Contacted',
          picklist: ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'],
        }),
        field('IsConverted', 'boolean', { label: 'Converted', defaultValue: false, updateable: false }),
        field('ConvertedContactId', 'reference', { ...readOnly, referenceTo: ['Contact'], relationshipName: 'ConvertedContact' }),
        field('ConvertedDate', 'date', readOnly),
      ],
    },
    {
      name: 'Campaign', label: 'Campaign', labelPlural: 'Campaigns', keyPrefix: KEY_PREFIX.Campaign,
      fields: [
        ...systemFields(), owner(),
        field('Name', 'string', { label: 'Campaign Name', length: 80, nillable: false, required: true }),
        field('IsActive', 'boolean', { label: 'Active', defaultValue: false }),
        field('Status', 'picklist', { picklist: ['Planned', 'In Progress', 'Completed', 'Aborted'], defaultValue: 'Planned' }),
        field('Type', 'picklist', { picklist: ['Conference', 'Webinar', 'Trade Show', 'Email', 'Advertisement', 'Other'] }),
        field('StartDate', 'date'),
        field('EndDate', 'date'),
        // Roll-up counts Salesforce keeps on Campaign; maintained by campaign-counts.ts.
        field('NumberOfContacts', 'int', { ...readOnly, derive: (r) => (r[CONTACT_COUNT] as number | undefined) ?? 0 }),
        field('NumberOfLeads', 'int', { ...readOnly, derive: (r) => (r[LEAD_COUNT] as number | undefined) ?? 0 }),
      ],
    },
    {
      name: 'CampaignMember', label: 'Campaign Member', labelPlural: 'Campaign Members', keyPrefix: KEY_PREFIX.CampaignMember,
      fields: [
        ...systemFields(),
        field('CampaignId', 'reference', { label: 'Campaign ID', referenceTo: ['Campaign'], relationshipName: 'Campaign', updateable: false, nillable: false, required: true }),
        field('ContactId', 'reference', { label: 'Contact ID', referenceTo: ['Contact'], relationshipName: 'Contact', updateable: false }),
        field('LeadId', 'reference', { label: 'Lead ID', referenceTo: ['Lead'], relationshipName: 'Lead', updateable: false }),
        field('Status', 'picklist', { picklist: ['Sent', 'Responded'], defaultValue: 'Sent' }),
        field('HasResponded', 'boolean', { label: 'Responded', derive: (r) => r.Status === 'Responded' }),
        field('Type', 'string', { derive: (r) => (r.ContactId ? 'Contact' : 'Lead') }),
        field('FirstName', 'string', { derive: fromMember('FirstName') }),
        field('LastName', 'string', { derive: fromMember('LastName') }),
        field('Email', 'email', { derive: fromMember('Email') }),
        field('Phone', 'phone', { derive: fromMember('Phone') }),
        field('MobilePhone', 'phone', { label: 'Mobile', derive: fromMember('MobilePhone') }),
        field('DoNotCall', 'boolean', { derive: fromMember('DoNotCall') }),
        field('HasOptedOutOfEmail', 'boolean', { derive: fromMember('HasOptedOutOfEmail') }),
      ],
    },
    {
      name: 'Task', label: 'Task', labelPlural: 'Tasks', keyPrefix: KEY_PREFIX.Task,
      fields: [
        ...systemFields(), owner(),
        field('WhoId', 'reference', { label: 'Name ID', referenceTo: ['Contact', 'Lead'], relationshipName: 'Who' }),
        field('WhatId', 'reference', { label: 'Related To ID', referenceTo: ['Campaign'], relationshipName: 'What' }),
        field('Subject', 'string', { length: 255 }),
        field('Description', 'textarea', { label: 'Comments', length: 32000 }),
        field('Status', 'picklist', { picklist: TASK_STATUSES, restrictedPicklist: true, nillable: false, defaultValue: 'Not Started' }),
        field('Priority', 'picklist', { picklist: ['High', 'Normal', 'Low'], restrictedPicklist: true, nillable: false, defaultValue: 'Normal' }),
        field('ActivityDate', 'date', { label: 'Due Date Only' }),
        field('Type', 'picklist', { picklist: ['Call', 'Email', 'Meeting', 'Other'] }),
        field('TaskSubtype', 'picklist', { picklist: ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn'], updateable: false, defaultValue: 'Task' }),
        field('IsClosed', 'boolean', { label: 'Closed', derive: (r) => isClosedTaskStatus(r.Status) }),
        field('CompletedDateTime', 'datetime', readOnly),
        field('WhatsApp_Message_Id__c', 'string', { label: 'WhatsApp Message ID', length: 255, externalId: true, unique: true, caseSensitive: true }),
      ],
    },
    {
      name: 'User', label: 'User', labelPlural: 'Users', keyPrefix: KEY_PREFIX.User,
      fields: [
        ...systemFields(),
        field('Username', 'string', { length: 80, nillable: false, required: true, unique: true }),
        field('FirstName', 'string', { length: 40 }),
        field('LastName', 'string', { length: 80, nillable: false, required: true }),
        field('Name', 'string', { label: 'Full Name', length: 121, derive: fullName }),
        field('Email', 'email', { length: 128, nillable: false, required: true }),
        field('Alias', 'string', { length: 8 }),
        field('IsActive', 'boolean', { label: 'Active', defaultValue: true }),
      ],
    },
  ]
}

/** Builds one org's schema: the standard objects plus that org's extra (e.g. namespaced) fields. */
export function buildSchema(extraFields: Partial<Record<SObjectName, ExtraFieldInput[]>> = {}): Map<SObjectName, SObjectDef> {
  const schema = new Map<SObjectName, SObjectDef>()
  for (const base of baseObjects()) {
    const extras = (extraFields[base.name] ?? []).map((x) =>
      field(x.name, x.type, {
        ...(x.label ? { label: x.label } : {}),
        ...(x.length ? { length: x.length } : x.type === 'string' ? { length: 255 } : {}),
        ...(x.externalId ? { externalId: true } : {}),
        ...(x.unique ? { unique: true } : {}),
        ...(x.caseSensitive ? { caseSensitive: true } : {}),
        ...(x.picklist ? { picklist: x.picklist } : {}),
        ...(x.type === 'boolean' ? { defaultValue: false } : {}),
        custom: true,
      }),
    )
    const fields = [...base.fields, ...extras]
    schema.set(base.name, {
      ...base,
      fields,
      byLowerName: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
      byLowerRelationship: new Map(fields.filter((f) => f.relationshipName).map((f) => [f.relationshipName!.toLowerCase(), f])),
    })
  }
  return schema
}

/** Case-insensitive sObject name → canonical name (SOQL and URLs accept any case). */
export function canonicalSObject(name: string): SObjectName | undefined {
  const lower = name.toLowerCase()
  return SOBJECT_NAMES.find((n) => n.toLowerCase() === lower)
}

export function sobjectForId(id: string): SObjectName | undefined {
  const prefix = id.slice(0, 3)
  const entry = (Object.entries(KEY_PREFIX) as [string, string][]).find(([, p]) => p === prefix)
  return entry ? canonicalSObject(entry[0]) : undefined
}
