// A message's current status only moves forward, whatever order Meta's webhooks arrive in
// (reference whatsapp.md §4.3: read may precede delivered; "read" implies delivered; failed is
// terminal and may follow sent or delivered). A lower-ranked status arriving late only adds history.

export const MESSAGE_STATUSES = ['queued', 'sending', 'accepted', 'unknown', 'sent', 'delivered', 'read', 'failed', 'skipped'] as const
export type MessageStatus = (typeof MESSAGE_STATUSES)[number]

const RANK: Record<MessageStatus, number> = {
  queued: 0,
  sending: 1,
  accepted: 2,
  unknown: 2,
  sent: 3,
  delivered: 4,
  read: 5,
  failed: 6,
  skipped: 6,
}

/** Statuses Meta reports in webhooks that the connector tracks. */
export const WEBHOOK_STATUSES = new Set(['sent', 'delivered', 'read', 'failed'])

export function statusRank(status: string): number {
  // Own keys only: 'toString', 'constructor', '__proto__' must not resolve to Object.prototype members.
  return Object.hasOwn(RANK, status) ? RANK[status as MessageStatus] : -1
}

/** The status a message ends at after seeing all of `statuses`, in any order. */
export function foldStatuses(start: MessageStatus, statuses: readonly string[]): MessageStatus {
  let current = start
  for (const s of statuses) if (statusRank(s) > statusRank(current)) current = s as MessageStatus
  return current
}
