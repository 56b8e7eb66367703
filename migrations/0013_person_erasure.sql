-- Erasure of a person (GDPR): the consent log keeps their events, with phone and match key replaced
-- by a salted hash, so the log stays append-only in substance and an erased opt-out still matches
-- the same phone later. person_hash is HMAC-SHA256 built from core sha256 (no extension), keyed by
-- a secret the connector derives from its encryption key and stores here once, so the hash stays
-- the same across restarts and key rotations. Without the key row it is NULL: nothing matches and
-- the trigger allows no change.
CREATE TABLE person_hash_key (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
  outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION person_hash(value text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT 'erased:' || encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(value, 'UTF8'))), 'hex') FROM person_hash_key k
$$;

-- The one change the log accepts: a plain phone or match key replaced by its person_hash; every
-- other column unchanged. DELETE and any other UPDATE are still refused.
CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (NEW.phone IS NOT DISTINCT FROM OLD.phone OR (OLD.phone NOT LIKE 'erased:%' AND NEW.phone = person_hash(OLD.phone)))
     AND (NEW.match_key IS NOT DISTINCT FROM OLD.match_key OR (OLD.match_key NOT LIKE 'erased:%' AND NEW.match_key = person_hash(OLD.match_key)))
     AND (NEW.id, NEW.whatsapp_user_id, NEW.installation_id, NEW.state, NEW.source, NEW.evidence, NEW.occurred_at, NEW.recorded_at, NEW.dedupe_key)
         IS NOT DISTINCT FROM (OLD.id, OLD.whatsapp_user_id, OLD.installation_id, OLD.state, OLD.source, OLD.evidence, OLD.occurred_at, OLD.recorded_at, OLD.dedupe_key)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'consent_events is append-only';
END
$$;
