// Contact properties a fresh portal starts with (the subset the connector touches, plus the
// read-only system ones the API always returns).
import type { PropertyDefinition, PropertyGroup } from './types.ts'

/** Served from Contact fields rather than stored in `properties`. */
export const COMPUTED_PROPERTIES = new Set(['hs_object_id', 'createdate', 'lastmodifieddate', 'hs_lastmodifieddate'])

/** What search/GET return when the caller names no properties. */
export const DEFAULT_RETURNED_PROPERTIES = ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname']

/** Always added to batch-read/update results next to the requested properties. */
export const ALWAYS_RETURNED_PROPERTIES = ['hs_object_id', 'createdate', 'lastmodifieddate']

export const OPT_IN_PROPERTY = 'whatsapp_opt_in'

type Spec = [name: string, label: string, type: string, fieldType: string, group: string, readOnly?: boolean]

const SPECS: Spec[] = [
  ['hs_object_id', 'Record ID', 'number', 'number', 'contactinformation', true],
  ['createdate', 'Create Date', 'datetime', 'date', 'contactinformation', true],
  ['lastmodifieddate', 'Last Modified Date', 'datetime', 'date', 'contactinformation', true],
  ['hs_lastmodifieddate', 'Object last modified date/time', 'datetime', 'date', 'contactinformation', true],
  ['firstname', 'First Name', 'string', 'text', 'contactinformation'],
  ['lastname', 'Last Name', 'string', 'text', 'contactinformation'],
  ['email', 'Email', 'string', 'text', 'contactinformation'],
  ['phone', 'Phone Number', 'string', 'phonenumber', 'contactinformation'],
  ['mobilephone', 'Mobile Phone Number', 'string', 'phonenumber', 'contactinformation'],
  ['hs_whatsapp_phone_number', 'WhatsApp Phone Number', 'string', 'phonenumber', 'contactinformation'],
  ['country', 'Country/Region', 'string', 'text', 'contactinformation'],
  ['city', 'City', 'string', 'text', 'contactinformation'],
  ['company', 'Company Name', 'string', 'text', 'contactinformation'],
  ['hs_language', 'Preferred language', 'enumeration', 'select', 'contactinformation'],
  ['lifecyclestage', 'Lifecycle Stage', 'enumeration', 'radio', 'contactinformation'],
]

const ENUM_OPTIONS: Record<string, string[]> = {
  hs_language: ['en', 'en-gb', 'de', 'pt-br', 'es', 'es-mx', 'hi'],
  lifecyclestage: ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'],
}

export function defaultPropertyGroups(): PropertyGroup[] {
  return [
    { name: 'contactinformation', label: 'Contact information', displayOrder: -1 },
    { name: 'conversioninformation', label: 'Conversion information', displayOrder: -1 },
  ]
}

export function defaultContactProperties(now: number): PropertyDefinition[] {
  return SPECS.map(([name, label, type, fieldType, groupName, readOnly = false], i) => ({
    name,
    label,
    type,
    fieldType,
    groupName,
    description: '',
    options: (ENUM_OPTIONS[name] ?? []).map((value, displayOrder) => ({ label: value, value, displayOrder, hidden: false })),
    hubspotDefined: true,
    readOnly,
    hasUniqueValue: name === 'email',
    displayOrder: i,
    formField: !readOnly,
    createdAt: now,
    updatedAt: now,
  }))
}

/** The custom property the connector creates; seeding adds it so seeded portals look "installed". */
export function optInPropertyDefinition(now: number): PropertyDefinition {
  return {
    name: OPT_IN_PROPERTY,
    label: 'WhatsApp opt-in',
    type: 'enumeration',
    fieldType: 'booleancheckbox',
    groupName: 'contactinformation',
    description: 'Whether the contact agreed to receive WhatsApp messages.',
    options: [
      { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
      { label: 'No', value: 'false', displayOrder: 1, hidden: false },
    ],
    hubspotDefined: false,
    readOnly: false,
    hasUniqueValue: false,
    displayOrder: -1,
    formField: true,
    createdAt: now,
    updatedAt: now,
  }
}
