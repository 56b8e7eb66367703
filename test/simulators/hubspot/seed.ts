// Deterministic contact/list generation and mutation for a portal.
import { applyContactChanges } from './contact-store.ts'
import type { SimContext } from './context.ts'
import { OPT_IN_PROPERTY, optInPropertyDefinition } from './default-properties.ts'
import { addMember, createList, removeMember } from './list-store.ts'
import { countryName, generatePhone, type PhoneCountry, type PhoneFormat } from './phone-numbers.ts'
import { createRandom, type Random } from './prng.ts'
import { CITIES, FIRST_NAMES, LANGUAGES, LAST_NAMES } from './seed-names.ts'
import { addContact, requirePortal } from './state.ts'
import type { Contact, Portal, ProcessingType } from './types.ts'

export interface SeedListInput {
  name: string
  /** Exact member count (capped at the contacts seeded by this call). */
  size?: number
  /** Each seeded contact joins with this probability (used when `size` is absent). */
  memberFraction?: number
  /** Default DYNAMIC. */
  processingType?: ProcessingType
}

export interface SeedInput {
  portalId: number
  contacts: number
  lists?: SeedListInput[]
  /** Relative weights; missing keys use the defaults below. */
  phoneFormats?: Partial<Record<PhoneFormat, number>>
  countries?: Partial<Record<PhoneCountry, number>>
  /** PRNG seed; default derived from the portal id and call count. */
  seed?: number
  /** Create `whatsapp_opt_in` and fill it (true 35 %, false 15 %, unset 50 %). Default true. */
  optIn?: boolean
}

export interface SeedResult {
  portalId: number
  contacts: { count: number; firstId: number | null; lastId: number | null }
  lists: { listId: string; name: string; size: number; processingType: ProcessingType }[]
}

export interface MutateInput {
  portalId: number
  /** Share of the portal's contacts to change, 0..1. */
  fraction: number
  seed?: number
  /** Which changes to draw from; default all (list changes only if the portal has lists). */
  kinds?: ('phone' | 'optIn' | 'list')[]
  /** Fire propertyChange webhooks (changeSource CRM_UI) for subscribed properties. Default false. */
  emitWebhooks?: boolean
}

export interface MutateResult {
  changed: number
  phoneChanged: number[]
  optInChanged: number[]
  listAdded: { listId: string; recordId: number }[]
  listRemoved: { listId: string; recordId: number }[]
}

const DEFAULT_PHONE_FORMATS: Record<PhoneFormat, number> = {
  e164: 30,
  international: 15,
  national: 20,
  idd00: 5,
  landline: 8,
  legacy_mobile: 7,
  invalid: 5,
  missing: 10,
}

const DEFAULT_COUNTRIES: Record<PhoneCountry, number> = { US: 25, GB: 15, DE: 15, BR: 15, MX: 10, AR: 10, IN: 10 }

const DAY = 86_400_000
const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com']
const LIFECYCLE = ['subscriber', 'lead', 'marketingqualifiedlead', 'customer']

export function seedPortal(ctx: SimContext, input: SeedInput): SeedResult {
  const portal = requirePortal(ctx.state, input.portalId)
  const r = createRandom(input.seed ?? portal.portalId * 31 + portal.generation++)
  const ref = ctx.state.config.referenceTime
  const formats = { ...DEFAULT_PHONE_FORMATS, ...input.phoneFormats }
  const countries = { ...DEFAULT_COUNTRIES, ...input.countries }
  const optIn = input.optIn ?? true
  if (optIn && !portal.properties.has(OPT_IN_PROPERTY)) portal.properties.set(OPT_IN_PROPERTY, optInPropertyDefinition(ref))

  const created: Contact[] = []
  for (let i = 0; i < input.contacts; i++) {
    // Ids grow with small gaps, like a real portal where some records were deleted.
    portal.nextContactId += r.next() < 0.1 ? r.int(1, 5) : 0
    const contact = generateContact(r, portal.nextContactId++, r.weighted(countries), formats, optIn, ref)
    addContact(portal, contact)
    created.push(contact)
  }

  const lists = (input.lists ?? []).map((spec) => {
    const list = createList(portal, spec.name, spec.processingType ?? 'DYNAMIC', ref - r.int(30, 400) * DAY)
    const members = spec.size !== undefined ? sample(r, created, Math.min(spec.size, created.length)) : created.filter(() => r.next() < (spec.memberFraction ?? 0))
    for (const contact of members) {
      const joinFrom = Math.max(contact.createdAt, list.createdAt)
      const joinedAt = joinFrom + Math.floor(r.next() * Math.max(1, ref - joinFrom))
      list.members.set(contact.id, joinedAt)
      list.updatedAt = Math.max(list.updatedAt, joinedAt)
    }
    return { listId: list.listId, name: list.name, size: list.members.size, processingType: list.processingType }
  })

  return {
    portalId: portal.portalId,
    contacts: { count: created.length, firstId: created[0]?.id ?? null, lastId: created.at(-1)?.id ?? null },
    lists,
  }
}

function generateContact(r: Random, id: number, country: PhoneCountry, formats: Record<PhoneFormat, number>, optIn: boolean, ref: number): Contact {
  const firstname = r.pick(FIRST_NAMES[country])
  const lastname = r.pick(LAST_NAMES[country])
  const properties: Record<string, string> = { firstname, lastname }
  if (r.next() < 0.95) {
    const local = `${ascii(firstname)}.${ascii(lastname)}.${id}`
    properties.email = `${r.next() < 0.03 ? local.toUpperCase() : local}@${r.pick(EMAIL_DOMAINS)}`
  }
  const format = r.weighted(formats)
  const phone = generatePhone(r, country, format)
  if (phone.value !== null) {
    if (!phone.mobile) properties.phone = phone.value
    else {
      const placement = r.next()
      if (placement < 0.55) properties.mobilephone = phone.value
      else if (placement < 0.9) properties.phone = phone.value
      else {
        // Mobile in mobilephone and an office landline in phone.
        properties.mobilephone = phone.value
        properties.phone = generatePhone(r, country, 'landline').value ?? ''
      }
    }
    if (phone.mobile && phone.e164 && r.next() < 0.1) properties.hs_whatsapp_phone_number = phone.e164
  }
  if (r.next() < 0.8) properties.country = countryName(country)
  if (r.next() < 0.6) properties.city = r.pick(CITIES[country])
  if (r.next() < 0.7) properties.hs_language = LANGUAGES[country]
  properties.lifecyclestage = r.pick(LIFECYCLE)
  if (optIn) {
    const roll = r.next()
    if (roll < 0.35) properties[OPT_IN_PROPERTY] = 'true'
    else if (roll < 0.5) properties[OPT_IN_PROPERTY] = 'false'
  }
  const createdAt = ref - r.int(1, 3 * 365) * DAY - r.int(0, DAY - 1)
  return {
    id,
    createdAt,
    updatedAt: createdAt + Math.floor(r.next() * (ref - createdAt)),
    properties,
    phoneTruth: { country, format, e164: phone.mobile ? phone.e164 : null },
  }
}

export function mutatePortal(ctx: SimContext, input: MutateInput): MutateResult {
  const portal = requirePortal(ctx.state, input.portalId)
  const r = createRandom(input.seed ?? portal.portalId * 31 + portal.generation++)
  const lists = [...portal.lists.values()]
  const kinds = (input.kinds ?? ['phone', 'optIn', 'list']).filter((k) => k !== 'list' || lists.length > 0)
  const result: MutateResult = { changed: 0, phoneChanged: [], optInChanged: [], listAdded: [], listRemoved: [] }
  if (kinds.length === 0) return result
  const source = input.emitWebhooks ? { changeSource: 'CRM_UI', sourceId: `userId:${portal.userId}` } : null
  for (const contact of sample(r, portal.contactOrder, Math.round(Math.min(1, Math.max(0, input.fraction)) * portal.contactOrder.length))) {
    const kind = r.pick(kinds)
    const now = Date.now()
    if (kind === 'phone') {
      changePhone(ctx, r, portal, contact, source)
      result.phoneChanged.push(contact.id)
    } else if (kind === 'optIn') {
      const next = contact.properties[OPT_IN_PROPERTY] === 'true' ? 'false' : 'true'
      if (!portal.properties.has(OPT_IN_PROPERTY)) portal.properties.set(OPT_IN_PROPERTY, optInPropertyDefinition(now))
      applyContactChanges(ctx, portal, contact, { [OPT_IN_PROPERTY]: next }, source)
      result.optInChanged.push(contact.id)
    } else {
      const list = r.pick(lists)
      if (removeMember(list, contact.id, now)) result.listRemoved.push({ listId: list.listId, recordId: contact.id })
      else if (addMember(list, contact.id, now)) result.listAdded.push({ listId: list.listId, recordId: contact.id })
    }
    result.changed++
  }
  return result
}

function changePhone(ctx: SimContext, r: Random, portal: Portal, contact: Contact, source: { changeSource: string; sourceId: string } | null): void {
  const country = contact.phoneTruth?.country ?? 'US'
  const format = r.weighted(DEFAULT_PHONE_FORMATS)
  const phone = generatePhone(r, country, format)
  const field = contact.properties.mobilephone !== undefined || (phone.mobile && contact.properties.phone === undefined) ? 'mobilephone' : 'phone'
  applyContactChanges(ctx, portal, contact, { [field]: phone.value ?? '' }, source)
  contact.phoneTruth = { country, format, e164: phone.mobile ? phone.e164 : null }
}

/** Partial Fisher–Yates: `count` distinct items in random order, O(items) once. */
function sample<T>(r: Random, items: readonly T[], count: number): T[] {
  const pool = items.slice()
  const n = Math.min(count, pool.length)
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(r.next() * (pool.length - i))
    const tmp = pool[i] as T
    pool[i] = pool[j] as T
    pool[j] = tmp
  }
  return pool.slice(0, n)
}

function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase()
}
