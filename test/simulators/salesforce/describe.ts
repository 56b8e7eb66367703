import type { FieldDef, SObjectDef } from './schema.ts'

// Describe bodies (GET /sobjects, /sobjects/{type}, /sobjects/{type}/describe).

const SOAP_TYPES: Record<FieldDef['type'], string> = {
  id: 'tns:ID', reference: 'tns:ID', string: 'xsd:string', textarea: 'xsd:string', email: 'xsd:string', phone: 'xsd:string',
  picklist: 'xsd:string', boolean: 'xsd:boolean', datetime: 'xsd:dateTime', date: 'xsd:date', int: 'xsd:int',
}

const CHILD_RELATIONSHIPS: Record<string, string> = { CampaignMember: 'CampaignMembers', Task: 'Tasks' }

function sobjectUrls(def: SObjectDef, version: string): Record<string, string> {
  const base = `/services/data/${version}/sobjects/${def.name}`
  return { compactLayouts: `${base}/describe/compactLayouts`, rowTemplate: `${base}/{ID}`, defaultValues: `${base}/defaultValues?recordTypeId&fields`, describe: `${base}/describe`, sobject: base, listviews: `${base}/listviews` }
}

export function sobjectSummary(def: SObjectDef, version: string): Record<string, unknown> {
  const system = def.name === 'User'
  return {
    activateable: false, createable: !system, custom: false, customSetting: false, deletable: !system, deprecatedAndHidden: false,
    feedEnabled: false, hasSubtypes: false, isSubtype: false, keyPrefix: def.keyPrefix, label: def.label, labelPlural: def.labelPlural,
    layoutable: true, mergeable: def.name === 'Contact' || def.name === 'Lead', mruEnabled: true, name: def.name, queryable: true,
    replicateable: true, retrieveable: true, searchable: def.name !== 'CampaignMember', triggerable: true, undeletable: !system,
    updateable: true, urls: sobjectUrls(def, version),
  }
}

function describeField(f: FieldDef): Record<string, unknown> {
  return {
    name: f.name,
    label: f.label,
    type: f.type,
    soapType: SOAP_TYPES[f.type],
    length: f.type === 'id' || f.type === 'reference' ? 18 : (f.length ?? 0),
    custom: f.custom,
    calculated: f.derive !== undefined,
    createable: f.createable,
    updateable: f.updateable,
    nillable: f.nillable,
    defaultedOnCreate: f.defaultValue !== undefined || f.type === 'boolean' || ['Id', 'OwnerId', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp'].includes(f.name),
    defaultValue: f.defaultValue ?? null,
    externalId: f.externalId ?? false,
    idLookup: f.name === 'Id' || (f.externalId ?? false),
    unique: f.unique ?? false,
    caseSensitive: f.caseSensitive ?? false,
    filterable: f.filterable,
    sortable: f.filterable,
    groupable: f.filterable && f.type !== 'datetime',
    picklistValues: (f.picklist ?? []).map((value) => ({ active: true, defaultValue: f.defaultValue === value, label: value, validFor: null, value })),
    restrictedPicklist: f.restrictedPicklist ?? false,
    referenceTo: f.referenceTo ?? [],
    relationshipName: f.relationshipName ?? null,
    polymorphicForeignKey: (f.referenceTo?.length ?? 0) > 1,
  }
}

export function describeSObject(def: SObjectDef, all: Iterable<SObjectDef>, version: string): Record<string, unknown> {
  const childRelationships = [...all].flatMap((child) =>
    child.fields
      .filter((f) => f.referenceTo?.includes(def.name) && CHILD_RELATIONSHIPS[child.name])
      .map((f) => ({ cascadeDelete: child.name === 'CampaignMember', childSObject: child.name, deprecatedAndHidden: false, field: f.name, relationshipName: CHILD_RELATIONSHIPS[child.name] })),
  )
  return { ...sobjectSummary(def, version), childRelationships, fields: def.fields.map(describeField), recordTypeInfos: [] }
}
