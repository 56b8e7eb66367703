import { describe, expect, it } from 'vitest'
import type { EngagementEvent } from '../../../crm-adapters/crm-adapter.ts'
import { packageFields } from '../../../crm-adapters/salesforce/salesforce-soql.ts'
import { mergeFacts, parseDescription, taskDescription, taskRecord, taskSubject } from '../../../crm-adapters/salesforce/salesforce-task.ts'
import { PACKAGE_FIELDS } from './helpers.ts'

const event = (over: Partial<EngagementEvent>): EngagementEvent => ({
  id: 'm:sent', messageId: 'm', recordId: '003Dn0000000001AAA', objectType: 'contact', kind: 'sent',
  occurredAt: new Date('2025-03-01T23:59:59.900Z'), direction: 'outbound', ...over,
})

describe('Task status trail', () => {
  it('round-trips through the Description, and re-applying the same events changes nothing', () => {
    const events = [
      event({ templateName: 'spring_sale', businessNumber: '+1 555-078-3881', text: 'Hi Ana\n\nStatus trail (UTC):\nnot a trail' }),
      event({ id: 'm:failed', kind: 'failed', occurredAt: new Date('2025-03-02T00:00:10Z'), errorCode: 131026, errorTitle: 'Message undeliverable' }),
    ]
    const first = taskDescription(mergeFacts(parseDescription(undefined), events))
    expect(first).toBe([
      'Status trail (UTC):', '2025-03-01 23:59:59 sent', '2025-03-02 00:00:10 failed (131026: Message undeliverable)', '',
      'Direction: outbound', 'Business number: +1 555-078-3881', 'Template: spring_sale', '',
      'Message:', 'Hi Ana', '', 'Status trail (UTC):', 'not a trail',
    ].join('\n'))
    const again = taskDescription(mergeFacts(parseDescription(first), events))
    expect(again).toBe(first)
  })

  it('keeps the earliest event of each kind and orders the trail by time', () => {
    const facts = mergeFacts(parseDescription('Status trail (UTC):\n2025-03-01 10:00:05 read\n'), [
      event({ kind: 'read', occurredAt: new Date('2025-03-01T10:00:09Z') }),
      event({ kind: 'delivered', occurredAt: new Date('2025-03-01T10:00:02Z') }),
      event({ kind: 'sent', occurredAt: new Date('2025-03-01T10:00:00Z') }),
    ])
    expect(facts.trail.map((e) => [e.kind, e.at.toISOString()])).toEqual([
      ['sent', '2025-03-01T10:00:00.000Z'], ['delivered', '2025-03-01T10:00:02.000Z'], ['read', '2025-03-01T10:00:05.000Z'],
    ])
  })

  it('ignores a Description that is not ours', () => {
    expect(parseDescription('Called, left a voicemail.')).toEqual({ trail: [] })
  })
})

describe('Task subject', () => {
  it('shows the furthest status: read beats delivered whatever the order, failed beats read', () => {
    const base = { trail: [], templateName: 'spring_sale' }
    const at = (s: string) => new Date(`2025-03-01T10:00:0${s}Z`)
    expect(taskSubject({ ...base, trail: [{ kind: 'read', at: at('1') }, { kind: 'delivered', at: at('2') }] })).toBe('WhatsApp: read "spring_sale"')
    expect(taskSubject({ ...base, trail: [{ kind: 'read', at: at('1') }, { kind: 'failed', at: at('2') }] })).toBe('WhatsApp: failed "spring_sale"')
    expect(taskSubject({ trail: [{ kind: 'opted_out', at: at('1') }], text: 'STOP' })).toBe('WhatsApp: opted out "STOP"')
  })

  it('uses the start of the text without a template, and stays within 255 characters', () => {
    const subject = taskSubject({ trail: [{ kind: 'replied', at: new Date() }], templateName: 'x'.repeat(300) })
    expect(subject).toHaveLength(255)
    expect(subject.endsWith('…')).toBe(true)
    expect(taskSubject({ trail: [{ kind: 'replied', at: new Date() }], text: `Yes please\n${'a'.repeat(200)}` })).toMatch(/^WhatsApp: replied "Yes please a+…"$/)
  })
})

describe('taskRecord', () => {
  it('dates the Task on the UTC day of its first event and truncates long text to the 32,000-character Description', () => {
    const facts = mergeFacts({ trail: [] }, [event({ text: 'z'.repeat(40_000) })])
    const record = taskRecord(packageFields(PACKAGE_FIELDS, 'ns'), 'm', '003Dn0000000001AAA', facts, true)
    expect(record).toMatchObject({ attributes: { type: 'Task' }, ns__WhatsApp_Message_Id__c: 'm', ActivityDate: '2025-03-01', Status: 'Completed', TaskSubtype: 'Task' })
    expect(String(record.Description)).toHaveLength(32_000)
    expect(taskRecord(packageFields(PACKAGE_FIELDS), 'm', '003Dn0000000001AAA', facts, false)).not.toHaveProperty('TaskSubtype')
  })

  it('refuses a namespace that is not a Salesforce prefix', () => {
    expect(() => packageFields(PACKAGE_FIELDS, 'ns__x')).toThrow(/namespace/)
  })

  it('prefixes the fields it is given and refuses names that are not custom fields (they go into SOQL)', () => {
    expect(packageFields({ optIn: 'Opt__c', optInDate: 'Opt_Date__c', messageId: 'Msg__c' }, 'wa')).toEqual({ optIn: 'wa__Opt__c', optInDate: 'wa__Opt_Date__c', messageId: 'wa__Msg__c' })
    expect(() => packageFields({ ...PACKAGE_FIELDS, messageId: 'Id FROM Task --' })).toThrow(/custom field/)
    expect(() => packageFields({ ...PACKAGE_FIELDS, optIn: 'HasOptedOutOfEmail' })).toThrow(/custom field/)
  })
})
