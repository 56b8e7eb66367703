import { KEY_PREFIX, makeId, normalizeId, tagOf } from './ids.ts'
import { createApiUsage, type ApiUsage } from './limits.ts'
import { buildSchema, sobjectForId, type ExtraFieldInput, type Lookup, type SObjectDef, type SObjectName, type SRecord } from './schema.ts'

// In-memory org data. Records live in one Map per sObject type: insertion order equals id order,
// which is also the order queries without ORDER BY return.

export interface Tombstone {
  id: string
  deletedDate: number
}

export interface Table {
  def: SObjectDef
  records: Map<string, SRecord>
  deleted: Tombstone[]
  counter: number
}

export interface ListViewDef {
  id: string
  developerName: string
  label: string
  sobjectType: 'Contact' | 'Lead'
  /** SOQL field paths shown as columns (Id and audit fields are added hidden, as Salesforce does). */
  columns: string[]
  /** A SOQL condition, e.g. `WhatsApp_Opt_In__c = true AND MailingCountry = 'Germany'`. */
  where?: string
  orderBy: { field: string; direction: 'ASC' | 'DESC' }
  scope: 'everything' | 'mine'
}

export interface ReportDef {
  id: string
  name: string
  developerName: string
  sobjectType: 'Contact' | 'Lead' | 'CampaignMember'
  /** SOQL field paths; the Reports API names them with report column names (see report-routes.ts). */
  columns: string[]
  where?: string
}

export interface Org {
  orgId: string
  userId: string
  username: string
  displayName: string
  email: string
  dailyApiLimit: number
  /** Three id characters shared by this org's records, so ids of two orgs never collide. */
  tag: string
  schema: Map<SObjectName, SObjectDef>
  tables: Map<SObjectName, Table>
  /** `${type}.${field}` → (value → record id) for unique external id fields. */
  externalIndex: Map<string, Map<string, string>>
  /** `${campaignId}|${contactOrLeadId}` → CampaignMember id (a person is in a campaign once). */
  memberIndex: Map<string, string>
  listViews: Map<string, ListViewDef>
  reports: Map<string, ReportDef>
  otherCounters: { listView: number; report: number; locator: number }
  usage: ApiUsage
  seed: number
  mutations: number
  stats: OrgStats
}

export interface OrgStats {
  calls: number
  byEndpoint: Record<string, number>
  tokenRefreshes: number
  tokensIssued: number
}

export interface CreateOrgInput {
  /** 15- or 18-char id starting with 00D; generated when absent. */
  orgId?: string
  userId?: string
  username?: string
  displayName?: string
  email?: string
  /** Daily (rolling 24h) API request allocation. Default 100,000. */
  dailyApiLimit?: number
  /** Extra fields per sObject, e.g. namespaced package fields (`ns__WhatsApp_Opt_In__c`). */
  extraFields?: Partial<Record<SObjectName, ExtraFieldInput[]>>
}

export function createOrgData(input: CreateOrgInput, sequence: number, now: number): Org {
  const orgId = input.orgId ? requireId(input.orgId, KEY_PREFIX.Organization, 'orgId') : makeId(KEY_PREFIX.Organization, tagOf(`org${sequence}`), sequence + 1)
  const tag = tagOf(orgId)
  const schema = buildSchema(input.extraFields)
  const tables = new Map<SObjectName, Table>()
  for (const [name, def] of schema) tables.set(name, { def, records: new Map(), deleted: [], counter: 0 })
  const org: Org = {
    orgId,
    userId: '',
    username: input.username ?? `integration.user@${orgId.toLowerCase()}.example.com`,
    displayName: input.displayName ?? 'Integration User',
    email: input.email ?? 'integration.user@example.com',
    dailyApiLimit: input.dailyApiLimit ?? 100_000,
    tag,
    schema,
    tables,
    externalIndex: new Map(),
    memberIndex: new Map(),
    listViews: new Map(),
    reports: new Map(),
    otherCounters: { listView: 0, report: 0, locator: 0 },
    usage: createApiUsage(),
    seed: 0,
    mutations: 0,
    stats: { calls: 0, byEndpoint: {}, tokenRefreshes: 0, tokensIssued: 0 },
  }
  const userTable = table(org, 'User')
  const userId = input.userId ? requireId(input.userId, KEY_PREFIX.User, 'userId') : nextId(org, 'User')
  const [firstName, ...rest] = org.displayName.split(' ')
  userTable.records.set(userId, {
    Id: userId, Username: org.username, FirstName: rest.length ? (firstName ?? null) : null, LastName: rest.length ? rest.join(' ') : org.displayName,
    Email: org.email, Alias: 'iuser', IsActive: true,
    CreatedDate: now, LastModifiedDate: now, SystemModstamp: now, CreatedById: userId, LastModifiedById: userId,
  })
  org.userId = userId
  return org
}

function requireId(value: string, prefix: string, label: string): string {
  const id = normalizeId(value)
  if (!id || !id.startsWith(prefix)) throw new Error(`${label} must be a 15- or 18-char Salesforce id starting with ${prefix}: ${value}`)
  return id
}

export function table(org: Org, type: SObjectName): Table {
  const t = org.tables.get(type)
  if (!t) throw new Error(`no table for ${type}`)
  return t
}

export function nextId(org: Org, type: SObjectName): string {
  const t = table(org, type)
  t.counter += 1
  return makeId(t.def.keyPrefix, org.tag, t.counter)
}

export function nextOtherId(org: Org, kind: keyof Org['otherCounters']): string {
  org.otherCounters[kind] += 1
  const prefix = kind === 'listView' ? KEY_PREFIX.ListView : kind === 'report' ? KEY_PREFIX.Report : KEY_PREFIX.QueryLocator
  return makeId(prefix, org.tag, org.otherCounters[kind])
}

export function lookupIn(org: Org): Lookup {
  return (id) => {
    const type = sobjectForId(id)
    if (!type) return undefined
    const record = org.tables.get(type)?.records.get(id)
    return record ? { type, record } : undefined
  }
}

export function isDeleted(org: Org, type: SObjectName, id: string): boolean {
  return table(org, type).deleted.some((t) => t.id === id)
}
