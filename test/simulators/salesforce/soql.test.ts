import { describe, expect, it } from 'vitest'
import { SfError } from './errors.ts'
import { makeId, normalizeId } from './ids.ts'
import { compileSoql } from './soql.ts'
import { createOrgData, table, type Org } from './state.ts'

const NOW = Date.parse('2025-03-10T12:00:00Z')
const DAY = 86_400_000

function orgWith(contacts: Record<string, unknown>[]): Org {
  const org = createOrgData({}, 0, NOW)
  const t = table(org, 'Contact')
  contacts.forEach((c, i) => {
    const id = makeId('003', org.tag, i + 1)
    t.records.set(id, {
      Id: id, FirstName: null, LastName: 'X', Email: null, MobilePhone: null, WhatsApp_Opt_In__c: false,
      CreatedDate: NOW, LastModifiedDate: NOW, SystemModstamp: NOW, OwnerId: org.userId, ...c,
    } as never)
  })
  return org
}

const org = orgWith([
  { LastName: 'Müller', MobilePhone: '+4915112345678', WhatsApp_Opt_In__c: true, SystemModstamp: NOW - 2 * DAY },
  { LastName: 'smith', FirstName: 'Ann', MobilePhone: null, SystemModstamp: NOW - 40 * DAY },
  { LastName: '100%_sure', Email: 'a@b.example', SystemModstamp: NOW },
  { LastName: 'Zed', FirstName: null, MobilePhone: '+14155550123', WhatsApp_Opt_In__c: true, SystemModstamp: NOW - DAY },
])

const names = (soql: string) => compileSoql(org, soql, NOW).run().map((r) => r.LastName)
const errorOf = (soql: string): SfError => {
  try {
    compileSoql(org, soql, NOW)
  } catch (error) {
    if (error instanceof SfError) return error
    throw error
  }
  throw new Error(`no error for ${soql}`)
}

describe('SOQL engine', () => {
  it('compares strings case-insensitively and treats != as including nulls', () => {
    expect(names("SELECT Id FROM Contact WHERE LastName = 'MÜLLER'")).toEqual(['Müller'])
    expect(names("SELECT Id FROM Contact WHERE FirstName != 'Ann'")).toEqual(['Müller', '100%_sure', 'Zed'])
    expect(names('SELECT Id FROM Contact WHERE FirstName = null')).toEqual(['Müller', '100%_sure', 'Zed'])
  })

  it('supports NOT, IN, NOT IN and nested parentheses', () => {
    expect(names("SELECT Id FROM Contact WHERE NOT LastName IN ('zed', 'smith')")).toEqual(['Müller', '100%_sure'])
    expect(names("SELECT Id FROM Contact WHERE LastName NOT IN ('zed') AND (MobilePhone != null OR (Email != null AND WhatsApp_Opt_In__c = false))")).toEqual(['Müller', '100%_sure'])
  })

  it('handles LIKE wildcards and escaped wildcards', () => {
    expect(names("SELECT Id FROM Contact WHERE LastName LIKE '%\\%\\_%'")).toEqual(['100%_sure'])
    expect(names("SELECT Id FROM Contact WHERE LastName LIKE '_ed'")).toEqual(['Zed'])
    expect(names("SELECT Id FROM Contact WHERE MobilePhone LIKE '+49%'")).toEqual(['Müller'])
  })

  it('evaluates date literals against the clock', () => {
    expect(names('SELECT Id FROM Contact WHERE SystemModstamp = TODAY')).toEqual(['100%_sure'])
    expect(names('SELECT Id FROM Contact WHERE SystemModstamp = LAST_N_DAYS:7 ORDER BY SystemModstamp')).toEqual(['Müller', 'Zed', '100%_sure'])
    expect(names('SELECT Id FROM Contact WHERE SystemModstamp < 2025-02-01T00:00:00.000+00:00')).toEqual(['smith'])
  })

  it('orders with NULLS FIRST/LAST and applies OFFSET and LIMIT', () => {
    expect(names('SELECT Id FROM Contact ORDER BY FirstName NULLS LAST, LastName DESC')).toEqual(['smith', 'Zed', 'Müller', '100%_sure'])
    expect(names('SELECT Id FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1')).toEqual(['Müller', 'smith'])
    expect(errorOf('SELECT Id FROM Contact OFFSET 2001').errorCode).toBe('NUMBER_OUTSIDE_VALID_RANGE')
  })

  it('accepts 15-char ids and case-insensitive field and object names', () => {
    const id = table(org, 'Contact').records.keys().next().value as string
    expect(names(`select id from CONTACT where ID = '${id.slice(0, 15)}'`)).toEqual(['Müller'])
    expect(normalizeId(id.toLowerCase())).toBe(id)
    const row = compileSoql(org, 'SELECT lastname, owner.alias FROM contact LIMIT 1', NOW)
    const projected = row.project(row.run()[0] as never, 'v62.0')
    expect(Object.keys(projected)).toEqual(['attributes', 'LastName', 'Owner'])
    expect(projected.Owner).toMatchObject({ attributes: { type: 'User' }, Alias: 'iuser' })
  })

  it('validates literal types like Salesforce', () => {
    expect(errorOf("SELECT Id FROM Contact WHERE WhatsApp_Opt_In__c = 'true'").message).toContain('must be of type boolean and should not be enclosed in quotes')
    expect(errorOf('SELECT Id FROM Contact WHERE LastName = 5').message).toContain('must be of type string and should be enclosed in quotes')
    expect(errorOf('SELECT Id FROM Task WHERE Description = null').message).toContain("field 'Description' can not be filtered")
    expect(errorOf('SELECT Id, id FROM Contact').message).toContain('duplicate field selected')
    expect(errorOf('SELECT Id FROM Contact WHERE LastName').errorCode).toBe('MALFORMED_QUERY')
    expect(errorOf("SELECT Id FROM Contact WHERE LastName = 'open").message).toContain('ERROR at Row:1:Column:')
  })
})
