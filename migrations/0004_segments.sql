-- Segments: CRM lists mapped to WhatsApp audiences. contacts are WhatsApp recipients (one per
-- installation and number, however many CRM records share it); crm_records map CRM records to
-- them; segment_members is the last good membership; segment_syncs the history of syncs, each
-- resumable from its cursor; segment_sync_seen the records a running sync has read so far.

CREATE TABLE contacts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  installation_id uuid NOT NULL REFERENCES installations (id),
  phone text NOT NULL,
  match_key text NOT NULL,
  country text,
  properties jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (installation_id, match_key)
);

CREATE TABLE crm_records (
  installation_id uuid NOT NULL REFERENCES installations (id),
  object_type text NOT NULL CHECK (object_type IN ('contact', 'lead')),
  record_id text NOT NULL,
  contact_id uuid REFERENCES contacts (id),
  phone_status text NOT NULL CHECK (phone_status IN ('ok', 'missing', 'invalid', 'fixed_line')),
  consent_value text,
  properties jsonb NOT NULL DEFAULT '{}',
  crm_updated_at timestamptz,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, object_type, record_id)
);
CREATE INDEX crm_records_contact ON crm_records (contact_id);

CREATE TABLE segments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  installation_id uuid NOT NULL REFERENCES installations (id),
  name text NOT NULL,
  source_type text NOT NULL CHECK (source_type IN ('hubspot_list', 'salesforce_campaign', 'salesforce_list_view', 'salesforce_report')),
  source_id text NOT NULL,
  source_name text,
  phone_properties text[] NOT NULL,
  default_country text NOT NULL,
  consent_property text,
  copy_properties text[] NOT NULL DEFAULT '{}',
  schedule text,
  running_sync_id uuid,
  heartbeat_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE segment_members (
  segment_id uuid NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  object_type text NOT NULL,
  record_id text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (segment_id, object_type, record_id)
);

CREATE TABLE segment_syncs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  segment_id uuid NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  trigger text NOT NULL CHECK (trigger IN ('manual', 'schedule', 'created')),
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  cursor text,
  pages integer NOT NULL DEFAULT 0,
  added integer NOT NULL DEFAULT 0,
  removed integer NOT NULL DEFAULT 0,
  unchanged integer NOT NULL DEFAULT 0,
  invalid integer NOT NULL DEFAULT 0,
  crm_calls integer NOT NULL DEFAULT 0,
  error_code text,
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX segment_syncs_segment ON segment_syncs (segment_id, started_at DESC);

CREATE TABLE segment_sync_seen (
  sync_id uuid NOT NULL REFERENCES segment_syncs (id) ON DELETE CASCADE,
  object_type text NOT NULL,
  record_id text NOT NULL,
  PRIMARY KEY (sync_id, object_type, record_id)
);
