-- Message templates of each WhatsApp Business Account, as last synced from Graph and kept current
-- by message_template_status_update webhooks.

CREATE TABLE message_templates (
  waba_id text NOT NULL,
  template_id text NOT NULL,
  name text NOT NULL,
  language text NOT NULL,
  status text NOT NULL,
  category text,
  parameter_format text,
  components jsonb NOT NULL DEFAULT '[]',
  synced_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (waba_id, template_id)
);
CREATE INDEX message_templates_name ON message_templates (waba_id, name, language);
