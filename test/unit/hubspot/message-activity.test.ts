import { describe, expect, it } from 'vitest'
import type { EngagementEvent, EngagementKind } from '../../../crm-adapters/crm-adapter.ts'
import { firstHappened, mergeActivity, parseActivity, renderActivity, serializeActivity } from '../../../crm-adapters/hubspot/message-activity.ts'

function event(kind: EngagementKind, at: string, extra: Partial<EngagementEvent> = {}): EngagementEvent {
  return { id: `m:${kind}`, messageId: 'm', recordId: '1', objectType: 'contact', kind, occurredAt: new Date(at), direction: 'outbound', ...extra }
}

describe('message activity', () => {
  it('orders steps by what happens to a message, however late events arrive', () => {
    const activity = mergeActivity(undefined, [event('read', '2026-03-01T10:05:00Z'), event('sent', '2026-03-01T10:02:00Z'), event('delivered', '2026-03-01T10:03:00Z')])
    expect(renderActivity(activity)).toBe('WhatsApp message sent — sent 2026-03-01 10:02, delivered 10:03, read 10:05 (UTC)')
    expect(firstHappened(activity)).toBe('2026-03-01T10:02:00.000Z')
  })

  it('is unchanged by a replayed event, and survives a round trip through its stored form', () => {
    const once = mergeActivity(undefined, [event('sent', '2026-03-01T10:02:00Z', { templateName: 'promo', text: 'Hello' })])
    const stored = serializeActivity(once)
    const twice = mergeActivity(parseActivity(stored), [event('sent', '2026-03-01T10:02:00Z', { templateName: 'promo', text: 'Hello' })])
    expect(twice).toEqual(parseActivity(stored))
    expect(renderActivity(twice)).toBe(renderActivity(once))
  })

  it('starts afresh from unreadable state', () => {
    expect(parseActivity('{not json')).toBeUndefined()
    expect(parseActivity(undefined)).toBeUndefined()
  })

  it('keeps a reply apart from the message it answers', () => {
    const activity = mergeActivity(undefined, [
      event('sent', '2026-03-01T10:02:00Z', { text: 'Want the catalogue?' }),
      event('replied', '2026-03-01T10:09:00Z', { direction: 'inbound', text: 'Yes' }),
    ])
    expect(renderActivity(activity)).toBe('WhatsApp message sent — sent 2026-03-01 10:02, replied 10:09 (UTC)\n\nWant the catalogue?\n\nReply: Yes')
  })
})
