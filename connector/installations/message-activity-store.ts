import type { MessageActivityStore } from '../../crm-adapters/crm-provider.ts'
import type { Queryable } from '../db/database.ts'

/** Which CRM activity record (HubSpot communication) each WhatsApp message has, per installation. */
export function messageActivityStore(db: Queryable, installationId: string): MessageActivityStore {
  return {
    async load(messageIds) {
      if (!messageIds.length) return []
      const { rows } = await db.query<{ message_id: string; activity_id: string; state: string }>(
        'SELECT message_id, activity_id, state FROM crm_message_activities WHERE installation_id = $1 AND message_id = ANY($2::text[])',
        [installationId, messageIds],
      )
      return rows.map((r) => ({ messageId: r.message_id, activityId: r.activity_id, state: r.state }))
    },
    async save(entries) {
      if (!entries.length) return
      await db.query(
        `INSERT INTO crm_message_activities (installation_id, message_id, activity_id, state)
         SELECT $1, m, a, s FROM unnest($2::text[], $3::text[], $4::text[]) AS u(m, a, s)
         ON CONFLICT (installation_id, message_id) DO UPDATE SET activity_id = EXCLUDED.activity_id, state = EXCLUDED.state, updated_at = now()`,
        [installationId, entries.map((e) => e.messageId), entries.map((e) => e.activityId), entries.map((e) => e.state)],
      )
    },
  }
}
