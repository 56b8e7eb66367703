import { describe, expect, it } from 'vitest'
import { foldStatuses, MESSAGE_STATUSES, statusRank } from '../../connector/messages/status-order.ts'

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]]
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
}

describe('statusRank', () => {
  it('orders the lifecycle sent < delivered < read < failed', () => {
    expect(statusRank('queued')).toBeLessThan(statusRank('sending'))
    expect(statusRank('sending')).toBeLessThan(statusRank('accepted'))
    expect(statusRank('accepted')).toBeLessThan(statusRank('sent'))
    expect(statusRank('sent')).toBeLessThan(statusRank('delivered'))
    expect(statusRank('delivered')).toBeLessThan(statusRank('read'))
    expect(statusRank('read')).toBeLessThan(statusRank('failed'))
  })

  it('gives every known status a non-negative number', () => {
    for (const s of MESSAGE_STATUSES) expect(statusRank(s)).toBeGreaterThanOrEqual(0)
  })

  it.each(['played', 'deleted', '', 'READ', 'toString', 'constructor', '__proto__', 'hasOwnProperty'])('unknown %j ranks -1', (s) => {
    expect(statusRank(s)).toBe(-1)
  })
})

describe('foldStatuses', () => {
  const four = permutations(['sent', 'delivered', 'read', 'failed'] as const)
  const three = permutations(['sent', 'delivered', 'read'] as const)

  it('generates all permutations', () => {
    expect(four).toHaveLength(24)
    expect(new Set(four.map((p) => p.join())).size).toBe(24)
    expect(three).toHaveLength(6)
    expect(new Set(three.map((p) => p.join())).size).toBe(6)
  })

  it.each(four.map((p) => [p.join(' → ')!, p] as const))('%s ends failed', (_name, order) => {
    expect(foldStatuses('accepted', order)).toBe('failed')
  })

  it.each(three.map((p) => [p.join(' → ')!, p] as const))('%s ends read', (_name, order) => {
    expect(foldStatuses('accepted', order)).toBe('read')
  })

  it('repeating statuses changes nothing', () => {
    expect(foldStatuses('accepted', ['sent', 'sent', 'delivered', 'sent', 'delivered'])).toBe('delivered')
    expect(foldStatuses('accepted', ['read', 'read', 'sent', 'read'])).toBe('read')
    for (const order of three) expect(foldStatuses('accepted', [...order, ...order, ...order.toReversed()])).toBe('read')
  })

  it('a late delivered after read leaves read', () => {
    expect(foldStatuses('accepted', ['sent', 'read', 'delivered'])).toBe('read')
    expect(foldStatuses('read', ['delivered'])).toBe('read')
    expect(foldStatuses('read', ['sent'])).toBe('read')
  })

  it('failed is terminal', () => {
    expect(foldStatuses('failed', ['sent', 'delivered', 'read'])).toBe('failed')
  })

  it('moves forward from accepted step by step', () => {
    expect(foldStatuses('accepted', [])).toBe('accepted')
    expect(foldStatuses('accepted', ['sent'])).toBe('sent')
    expect(foldStatuses('accepted', ['sent', 'delivered'])).toBe('delivered')
  })

  it('ignores unknown strings', () => {
    expect(foldStatuses('accepted', ['played', 'warning', '', 'toString', 'constructor'])).toBe('accepted')
    expect(foldStatuses('accepted', ['sent', 'played', 'deleted'])).toBe('sent')
    expect(foldStatuses('delivered', ['__proto__', 'DELIVERED', 'READ'])).toBe('delivered')
  })
})
