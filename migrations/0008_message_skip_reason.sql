-- Why the connector itself stopped a message (RECIPIENT_OPTED_OUT, CONSENT_REQUIRED): a stable
-- code next to Graph's numeric error_code, which such a message never has.
ALTER TABLE messages ADD COLUMN skip_reason text;
