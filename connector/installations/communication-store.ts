import type { CommunicationStore, StoredCommunication } from '../../crm-adapters/hubspot/hubspot-engagement.ts'
import type { Queryable } from '../db/database.ts'

/** The HubSpot adapter's message → communication map, kept per installation in the database. */
export function communicationStore(db: Queryable, installationId: string): CommunicationStore {
  return {
    async load(messageIds: string[]): Promise<StoredCommunication[]> {
      if (!messageIds.length) return []
      const { rows } = await db.query<{ message_id: string; activity_id: string; state: string }>(
        'SELECT message_id, activity_id, state FROM crm_message_activities WHERE installation_id = $1 AND message_id = ANY($2::text[])',
        [installationId, messageIds],
      )
      return rows.map((r) => ({ messageId: r.message_id, communicationId: r.activity_id, state: r.state }))
    },
    async save(entries: StoredCommunication[]): Promise<void> {
      if (!entries.length) return
      await db.query(
        `INSERT INTO crm_message_activities (installation_id, message_id, activity_id, state)
         SELECT $1, m, a, s FROM unnest($2::text[], $3::text[], $4::text[]) AS u(m, a, s)
         ON CONFLICT (installation_id, message_id) DO UPDATE SET activity_id = EXCLUDED.activity_id, state = EXCLUDED.state, updated_at = now()`,
        [installationId, entries.map((e) => e.messageId), entries.map((e) => e.communicationId), entries.map((e) => e.state)],
      )
    },
  }
}
