import { countMember } from './campaign-counts.ts'
import { createRng, seedFromString, type Rng } from './prng.ts'
import { compileSoql } from './soql.ts'
import { listViewQuery } from './listview-routes.ts'
import type { SRecord } from './schema.ts'
import { COMPANIES, TITLES, emailFor, mobileFor, phoneFor, pickCountry, type CountryData } from './seed-data.ts'
import { nextId, nextOtherId, table, type ListViewDef, type Org, type ReportDef } from './state.ts'

// Deterministic bulk data: the same seed gives the same records (timestamps are relative to the
// simulator clock). Records are written straight into the tables, bypassing API validation, so
// 100,000 contacts take well under a second.

const DAY = 86_400_000

export interface CampaignSeed {
  name: string
  /** Number of members (contacts and leads). */
  size: number
  /** Share of members that are leads. Default 0.25. */
  leadShare?: number
}

export interface ListViewSeed {
  sobjectType: 'Contact' | 'Lead'
  label: string
  developerName?: string
  /** SOQL field paths; default Name, Email, Phone, MobilePhone. */
  columns?: string[]
  /** SOQL condition, e.g. `WhatsApp_Opt_In__c = true`. */
  where?: string
  orderBy?: { field: string; direction?: 'ASC' | 'DESC' }
  scope?: 'everything' | 'mine'
}

export interface ReportSeed {
  name: string
  sobjectType: 'Contact' | 'Lead' | 'CampaignMember'
  developerName?: string
  /** SOQL field paths; default Id, FirstName, LastName, Email, Phone, MobilePhone, WhatsApp_Opt_In__c. */
  columns?: string[]
  where?: string
}

export interface SeedInput {
  contacts?: number
  leads?: number
  campaigns?: CampaignSeed[]
  listViews?: ListViewSeed[]
  reports?: ReportSeed[]
  /** PRNG seed; default derived from the org id. */
  seed?: number
}

export interface SeedResult {
  contacts: number
  leads: number
  campaigns: { id: string; name: string; members: number }[]
  listViews: { id: string; developerName: string; sobjectType: string }[]
  reports: { id: string; name: string }[]
}

const developerName = (label: string) => label.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '')

function timestamps(rng: Rng, now: number): { CreatedDate: number; LastModifiedDate: number; SystemModstamp: number } {
  const created = now - (60 + rng.int(3 * 365)) * DAY - rng.int(DAY)
  // A fifth of the records changed in the last 30 days, so Get Updated windows have content.
  const modified = rng.chance(0.2) ? now - rng.int(30 * DAY) : created + rng.int(Math.max(1, now - 30 * DAY - created))
  return { CreatedDate: created, LastModifiedDate: modified, SystemModstamp: modified + rng.int(5) * 1000 }
}

function person(org: Org, rng: Rng, country: CountryData, n: number, now: number) {
  const first = rng.chance(0.04) ? null : rng.pick(country.firstNames)
  const last = rng.pick(country.lastNames)
  const mobile = mobileFor(rng, country)
  const optIn = rng.chance(0.45)
  return {
    OwnerId: org.userId,
    CreatedById: org.userId,
    LastModifiedById: org.userId,
    ...timestamps(rng, now),
    FirstName: first,
    LastName: last,
    Title: rng.pick(TITLES),
    Email: emailFor(rng, first ?? 'info', last, n),
    Phone: phoneFor(rng, country, mobile),
    MobilePhone: mobile,
    HasOptedOutOfEmail: rng.chance(0.12),
    HasOptedOutOfFax: rng.chance(0.05),
    DoNotCall: rng.chance(0.06),
    IndividualId: null,
    LeadSource: rng.pick(['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other', null]),
    WhatsApp_Opt_In__c: optIn,
  }
}

function sampleWithoutReplacement(rng: Rng, population: number, count: number): number[] {
  const n = Math.min(population, count)
  const picked = new Map<number, number>()
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(population - i)
    out.push(picked.get(j) ?? j)
    picked.set(j, picked.get(i) ?? i)
  }
  return out
}

function addMember(org: Org, campaignId: string, personId: string, isLead: boolean, status: string, now: number, rng: Rng | undefined): SRecord {
  const stamp = rng ? timestamps(rng, now) : { CreatedDate: now, LastModifiedDate: now, SystemModstamp: now }
  const id = nextId(org, 'CampaignMember')
  const member: SRecord = {
    Id: id, CampaignId: campaignId, ContactId: isLead ? null : personId, LeadId: isLead ? personId : null, Status: status,
    CreatedById: org.userId, LastModifiedById: org.userId, ...stamp,
  }
  table(org, 'CampaignMember').records.set(id, member)
  countMember(org, member, 1)
  org.memberIndex.set(`${campaignId}|${personId}`, id)
  return member
}

export function addListView(org: Org, input: ListViewSeed, now: number): ListViewDef {
  const lv: ListViewDef = {
    id: nextOtherId(org, 'listView'),
    developerName: input.developerName ?? developerName(input.label),
    label: input.label,
    sobjectType: input.sobjectType,
    columns: input.columns ?? ['Name', 'Email', 'Phone', 'MobilePhone'],
    ...(input.where ? { where: input.where } : {}),
    orderBy: { field: input.orderBy?.field ?? 'Name', direction: input.orderBy?.direction ?? 'ASC' },
    scope: input.scope ?? 'everything',
  }
  compileSoql(org, listViewQuery(lv), now) // fails fast on a bad column or condition
  org.listViews.set(lv.id, lv)
  return lv
}

export function addReport(org: Org, input: ReportSeed, now: number): ReportDef {
  const report: ReportDef = {
    id: nextOtherId(org, 'report'),
    name: input.name,
    developerName: input.developerName ?? developerName(input.name),
    sobjectType: input.sobjectType,
    columns: input.columns ?? ['Id', 'FirstName', 'LastName', 'Email', 'Phone', 'MobilePhone', 'WhatsApp_Opt_In__c'],
    ...(input.where ? { where: input.where } : {}),
  }
  compileSoql(org, `SELECT ${report.columns.join(', ')} FROM ${report.sobjectType}${report.where ? ` WHERE ${report.where}` : ''}`, now)
  org.reports.set(report.id, report)
  return report
}

/** The list views every org has. */
export function addStandardListViews(org: Org, now: number): void {
  addListView(org, { sobjectType: 'Contact', label: 'All Contacts', developerName: 'AllContacts' }, now)
  addListView(org, { sobjectType: 'Contact', label: 'My Contacts', developerName: 'MyContacts', scope: 'mine' }, now)
  addListView(org, { sobjectType: 'Lead', label: 'All Open Leads', developerName: 'AllOpenLeads', where: 'IsConverted = false' }, now)
}

export function seedOrg(org: Org, input: SeedInput, now: number): SeedResult {
  org.seed = input.seed ?? seedFromString(org.orgId)
  const contacts = table(org, 'Contact')
  const leads = table(org, 'Lead')
  const contactIds: string[] = [...contacts.records.keys()]
  const leadIds: string[] = [...leads.records.keys()]
  const startContacts = contactIds.length
  const startLeads = leadIds.length
  // A second seed call into the same org continues with different (still deterministic) people.
  const rng = createRng((org.seed + Math.imul(startContacts, 7919) + startLeads) >>> 0)

  for (let i = 0; i < (input.contacts ?? 0); i++) {
    const country = pickCountry(rng)
    const id = nextId(org, 'Contact')
    const mailingCountry = rng.chance(0.7) ? country.name : rng.chance(0.5) ? country.code : null
    contacts.records.set(id, { Id: id, ...person(org, rng, country, startContacts + i, now), MailingCountry: mailingCountry })
    contactIds.push(id)
  }
  for (let i = 0; i < (input.leads ?? 0); i++) {
    const country = pickCountry(rng)
    const id = nextId(org, 'Lead')
    const converted = contactIds.length > 0 && rng.chance(0.05)
    leads.records.set(id, {
      Id: id, ...person(org, rng, country, startLeads + i, now),
      Company: rng.pick(COMPANIES), Country: rng.chance(0.8) ? country.name : null,
      Status: converted ? 'Closed - Converted' : rng.pick(['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted']),
      IsConverted: converted,
      ConvertedContactId: converted ? rng.pick(contactIds) : null,
      ConvertedDate: converted ? new Date(now - rng.int(90) * DAY).toISOString().slice(0, 10) : null,
    })
    leadIds.push(id)
  }

  const campaigns = (input.campaigns ?? []).map((c) => {
    const id = nextId(org, 'Campaign')
    table(org, 'Campaign').records.set(id, {
      Id: id, Name: c.name, IsActive: true, Status: 'In Progress', Type: rng.pick(['Email', 'Webinar', 'Advertisement', 'Other']),
      StartDate: new Date(now - 30 * DAY).toISOString().slice(0, 10), EndDate: new Date(now + 60 * DAY).toISOString().slice(0, 10),
      OwnerId: org.userId, CreatedById: org.userId, LastModifiedById: org.userId, CreatedDate: now - 45 * DAY, LastModifiedDate: now - 45 * DAY, SystemModstamp: now - 45 * DAY,
    })
    const wantedLeads = Math.min(leadIds.length, Math.round(c.size * (c.leadShare ?? 0.25)))
    const wantedContacts = Math.min(contactIds.length, c.size - wantedLeads)
    for (const i of sampleWithoutReplacement(rng, contactIds.length, wantedContacts)) {
      addMember(org, id, contactIds[i] as string, false, rng.chance(0.2) ? 'Responded' : 'Sent', now, rng)
    }
    for (const i of sampleWithoutReplacement(rng, leadIds.length, wantedLeads)) {
      addMember(org, id, leadIds[i] as string, true, rng.chance(0.2) ? 'Responded' : 'Sent', now, rng)
    }
    return { id, name: c.name, members: wantedContacts + wantedLeads }
  })

  const listViews = (input.listViews ?? []).map((lv) => addListView(org, lv, now))
  const reports = (input.reports ?? []).map((r) => addReport(org, r, now))
  return {
    contacts: contactIds.length - startContacts,
    leads: leadIds.length - startLeads,
    campaigns,
    listViews: listViews.map((lv) => ({ id: lv.id, developerName: lv.developerName, sobjectType: lv.sobjectType })),
    reports: reports.map((r) => ({ id: r.id, name: r.name })),
  }
}

export interface MutateResult {
  /** Contacts and leads whose fields changed (SystemModstamp bumped). */
  changedIds: string[]
  membersAdded: string[]
  membersRemoved: string[]
}

/**
 * Changes `fraction` of the contacts and of the leads, like users editing the CRM: a new or
 * reformatted mobile number, an opt-in or opt-out, or a campaign membership added or removed.
 */
export function mutateOrg(org: Org, fraction: number, now: number): MutateResult {
  org.mutations += 1
  const rng = createRng((org.seed ^ Math.imul(org.mutations, 0x9e3779b9)) >>> 0)
  const campaignIds = [...table(org, 'Campaign').records.keys()]
  const membersByPerson = new Map<string, SRecord[]>()
  for (const m of table(org, 'CampaignMember').records.values()) {
    const key = (m.ContactId ?? m.LeadId) as string
    const list = membersByPerson.get(key)
    if (list) list.push(m)
    else membersByPerson.set(key, [m])
  }
  const result: MutateResult = { changedIds: [], membersAdded: [], membersRemoved: [] }
  for (const type of ['Contact', 'Lead'] as const) {
    const t = table(org, type)
    const ids = [...t.records.keys()]
    for (const i of sampleWithoutReplacement(rng, ids.length, Math.round(ids.length * fraction))) {
      const id = ids[i] as string
      const current = t.records.get(id) as SRecord
      const roll = rng.next()
      if (roll < 0.3 && campaignIds.length > 0) {
        const memberships = membersByPerson.get(id) ?? []
        if (memberships.length > 0 && rng.chance(0.5)) {
          const m = rng.pick(memberships)
          table(org, 'CampaignMember').records.delete(m.Id)
          countMember(org, m, -1)
          table(org, 'CampaignMember').deleted.push({ id: m.Id, deletedDate: now })
          org.memberIndex.delete(`${m.CampaignId}|${id}`)
          result.membersRemoved.push(m.Id)
        } else {
          const campaignId = rng.pick(campaignIds)
          if (!org.memberIndex.has(`${campaignId}|${id}`)) result.membersAdded.push(addMember(org, campaignId, id, type === 'Lead', 'Sent', now, undefined).Id)
        }
        continue
      }
      const next: SRecord = { ...current, LastModifiedDate: now, SystemModstamp: now }
      if (roll < 0.65) {
        const country = pickCountry(rng)
        next.MobilePhone = rng.chance(0.15) ? null : country.mobile(rng)
      } else if (roll < 0.9) {
        next.WhatsApp_Opt_In__c = !current.WhatsApp_Opt_In__c
      } else {
        next.HasOptedOutOfEmail = !current.HasOptedOutOfEmail
        if (rng.chance(0.5)) next.DoNotCall = !current.DoNotCall
      }
      t.records.set(id, next)
      result.changedIds.push(id)
    }
  }
  return result
}
