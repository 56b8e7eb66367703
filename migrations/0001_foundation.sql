-- Foundation: WhatsApp numbers, the durable webhook inbox, messages and their statuses,
-- inbound messages, and the append-only consent ledger.

CREATE TABLE whatsapp_numbers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  phone_number_id text NOT NULL UNIQUE,
  waba_id text NOT NULL,
  display_phone_number text NOT NULL,
  verified_name text,
  quality_rating text,
  messages_per_second integer NOT NULL DEFAULT 80 CHECK (messages_per_second BETWEEN 1 AND 1000),
  access_token_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every signed webhook body, stored before it is acknowledged; processed later and idempotently.
CREATE TABLE inbox (
  id bigserial PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('whatsapp', 'hubspot')),
  body bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'processed', 'unprocessable', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  processed_at timestamptz
);
CREATE INDEX inbox_pending ON inbox (next_attempt_at, id) WHERE state = 'pending';

CREATE TABLE messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  number_id uuid NOT NULL REFERENCES whatsapp_numbers (id),
  recipient text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('template', 'text')),
  -- consent_reply: the confirmation of an opt-out or opt-in keyword, the one message an opted-out
  -- person may still receive (a service reply inside the window they just opened).
  purpose text NOT NULL DEFAULT 'send' CHECK (purpose IN ('send', 'consent_reply')),
  template_name text,
  template_language text,
  content jsonb NOT NULL,
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'skipped', 'unknown')),
  status_rank smallint NOT NULL DEFAULT 0,
  wamid text UNIQUE,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  error_code integer,
  error_title text,
  error_details text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sending_at timestamptz,
  accepted_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_recipient ON messages (recipient);
CREATE INDEX messages_queued ON messages (next_attempt_at) WHERE status = 'queued';
CREATE INDEX messages_sending ON messages (sending_at) WHERE status = 'sending';

-- One row per wamid and status however often Meta repeats it; rows for a wamid we have not
-- stored yet wait here and are applied when the send commits.
CREATE TABLE message_statuses (
  id bigserial PRIMARY KEY,
  wamid text NOT NULL,
  status text NOT NULL,
  occurred_at timestamptz NOT NULL,
  recipient_id text,
  callback_data text,
  errors jsonb,
  pricing jsonb,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (wamid, status)
);
CREATE INDEX message_statuses_callback ON message_statuses (callback_data) WHERE callback_data IS NOT NULL;

CREATE TABLE inbound_messages (
  id bigserial PRIMARY KEY,
  wamid text NOT NULL UNIQUE,
  phone_number_id text NOT NULL,
  from_wa_id text NOT NULL,
  profile_name text,
  type text NOT NULL,
  text text,
  context_wamid text,
  payload jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_messages_from ON inbound_messages (from_wa_id, occurred_at DESC);

-- Append-only audit of every consent change. installation_id NULL: a signal from WhatsApp about
-- the person, valid for every installation.
CREATE TABLE consent_events (
  id bigserial PRIMARY KEY,
  phone text NOT NULL,
  -- One key for every written form of the same WhatsApp number (Brazil's ninth digit, Mexico's
  -- and Argentina's mobile prefixes), so a signal about a wa_id finds the CRM's number.
  match_key text NOT NULL,
  installation_id uuid,
  state text NOT NULL CHECK (state IN ('opted_in', 'opted_out')),
  source text NOT NULL,
  evidence jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  dedupe_key text UNIQUE
);
CREATE INDEX consent_events_match_key ON consent_events (match_key, occurred_at DESC, id DESC);

CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_events is append-only';
END
$$;
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
  FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();
