-- Incremental segment syncs: where the CRM can say what changed since a time (Salesforce
-- campaigns), a sync reads only that. segments.change_cursor is the time the last successful sync
-- covered; member_key is the source's own membership id (CampaignMember Id), which is how a
-- removal is reported.

ALTER TABLE segments ADD COLUMN change_cursor text;
ALTER TABLE segment_syncs ADD COLUMN mode text NOT NULL DEFAULT 'full' CHECK (mode IN ('full', 'incremental'));
ALTER TABLE segment_members ADD COLUMN member_key text;
CREATE INDEX segment_members_member_key ON segment_members (segment_id, member_key) WHERE member_key IS NOT NULL;
ALTER TABLE segment_sync_seen ADD COLUMN member_key text;
