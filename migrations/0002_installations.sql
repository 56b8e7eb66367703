-- CRM installations (one per HubSpot portal or Salesforce org), their encrypted tokens, the
-- single-use OAuth states of installs in progress, and an audit trail kept after uninstall.

CREATE TABLE installations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  crm text NOT NULL CHECK (crm IN ('hubspot', 'salesforce')),
  account_id text NOT NULL,
  account_name text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reauth', 'uninstalled')),
  scopes text[] NOT NULL DEFAULT '{}',
  missing_scopes text[] NOT NULL DEFAULT '{}',
  user_id text,
  instance_url text,
  login_url text,
  access_token_enc text,
  refresh_token_enc text,
  access_token_expires_at timestamptz,
  token_version integer NOT NULL DEFAULT 0,
  last_error text,
  installed_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  uninstalled_at timestamptz,
  UNIQUE (crm, account_id)
);

CREATE TABLE oauth_states (
  id text PRIMARY KEY,
  crm text NOT NULL CHECK (crm IN ('hubspot', 'salesforce')),
  login_url text,
  code_verifier_enc text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

CREATE TABLE installation_events (
  id bigserial PRIMARY KEY,
  installation_id uuid NOT NULL REFERENCES installations (id),
  kind text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX installation_events_installation ON installation_events (installation_id, occurred_at);
