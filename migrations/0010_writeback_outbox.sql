-- The CRM write-back outbox: one row per write to one CRM record (consent now, engagement later;
-- the payload is the kind's own JSON). Writes to one record are applied in id order; a write the
-- CRM refuses for good is 'failed' (the dead letter) and can be replayed. match_key names the
-- WhatsApp recipient the write is about, for the consent audit.
CREATE TABLE writeback_outbox (
  id bigserial PRIMARY KEY,
  installation_id uuid NOT NULL REFERENCES installations (id),
  object_type text NOT NULL CHECK (object_type IN ('contact', 'lead')),
  record_id text NOT NULL,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  match_key text,
  occurred_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A drainer holds claimed rows until then; a crashed one's rows are claimable again after it.
  leased_until timestamptz,
  -- When the current run of retryable failures began: a write is dead-lettered only after a day of them.
  failing_since timestamptz,
  last_error_code text,
  last_error_message text,
  dedupe_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX writeback_outbox_record ON writeback_outbox (installation_id, kind, object_type, record_id, id);
CREATE INDEX writeback_outbox_due ON writeback_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX writeback_outbox_match_key ON writeback_outbox (match_key) WHERE match_key IS NOT NULL;
CREATE INDEX writeback_outbox_status ON writeback_outbox (status, id);

-- The outbox's share of each CRM account's API limit, as a token bucket every instance draws from.
CREATE TABLE writeback_budgets (
  installation_id uuid PRIMARY KEY REFERENCES installations (id),
  tokens double precision NOT NULL,
  refilled_at timestamptz NOT NULL
);
