import { CONTACT_COUNT, LEAD_COUNT } from './schema.ts'
import { table, type Org } from './state.ts'
import type { SRecord } from './schema.ts'

/** Keeps Campaign.NumberOfContacts / NumberOfLeads in step as members come and go. */
export function countMember(org: Org, member: SRecord, delta: 1 | -1): void {
  const campaign = table(org, 'Campaign').records.get(member.CampaignId as string)
  if (!campaign) return
  const key = member.LeadId ? LEAD_COUNT : CONTACT_COUNT
  campaign[key] = ((campaign[key] as number | undefined) ?? 0) + delta
}
