-- Which CRM activity stands for which WhatsApp message, per installation (HubSpot communication
-- ids), so engagement writes update the activity instead of creating a second one.

CREATE TABLE crm_message_activities (
  installation_id uuid NOT NULL REFERENCES installations (id),
  message_id text NOT NULL,
  activity_id text NOT NULL,
  state text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, message_id)
);
