-- WhatsApp users known by business-scoped user id (BSUID), and the installations a WhatsApp
-- number serves (reference whatsapp.md §9).

-- BSUIDs are scoped to the business portfolio that owns the number's WhatsApp Business Account
-- (Graph: GET /{waba-id}?fields=owner_business_info). Numbers connected before it was read keep
-- their WABA id as the stand-in until they are connected again.
ALTER TABLE whatsapp_numbers ADD COLUMN business_portfolio_id text;
UPDATE whatsapp_numbers SET business_portfolio_id = waba_id;
ALTER TABLE whatsapp_numbers ALTER COLUMN business_portfolio_id SET NOT NULL;

-- The installations (one customer's CRMs) a number serves; a number without rows serves every installation.
CREATE TABLE whatsapp_number_installations (
  number_id uuid NOT NULL REFERENCES whatsapp_numbers (id) ON DELETE CASCADE,
  installation_id uuid NOT NULL REFERENCES installations (id),
  PRIMARY KEY (number_id, installation_id)
);
CREATE INDEX whatsapp_number_installations_installation ON whatsapp_number_installations (installation_id);

-- One row per BSUID a portfolio has seen. The phone is linked once a webhook carries both; a
-- BSUID that was replaced (user_changed_user_id) points at its successor, and its consent
-- events count for the successor.
CREATE TABLE whatsapp_users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  business_portfolio_id text NOT NULL,
  user_id text NOT NULL,
  parent_user_id text,
  phone text,
  match_key text,
  username text,
  successor_id uuid REFERENCES whatsapp_users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (business_portfolio_id, user_id),
  CHECK (successor_id IS NULL OR successor_id <> id)
);
-- A phone belongs to one current user per portfolio.
CREATE UNIQUE INDEX whatsapp_users_phone ON whatsapp_users (business_portfolio_id, match_key) WHERE match_key IS NOT NULL;
CREATE INDEX whatsapp_users_match_key ON whatsapp_users (match_key) WHERE match_key IS NOT NULL;
CREATE INDEX whatsapp_users_user_id ON whatsapp_users (user_id);
CREATE INDEX whatsapp_users_successor ON whatsapp_users (successor_id) WHERE successor_id IS NOT NULL;

-- A consent event names the person by phone, by WhatsApp user, or both.
ALTER TABLE consent_events ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE consent_events ALTER COLUMN match_key DROP NOT NULL;
ALTER TABLE consent_events ADD COLUMN whatsapp_user_id uuid REFERENCES whatsapp_users (id);
ALTER TABLE consent_events ADD CONSTRAINT consent_events_person CHECK (match_key IS NOT NULL OR whatsapp_user_id IS NOT NULL);
CREATE INDEX consent_events_whatsapp_user ON consent_events (whatsapp_user_id, occurred_at DESC, id DESC) WHERE whatsapp_user_id IS NOT NULL;

-- Messages from users who do not share their phone carry only their BSUID.
ALTER TABLE inbound_messages ALTER COLUMN from_wa_id DROP NOT NULL;
ALTER TABLE inbound_messages ADD COLUMN from_user_id text;
