-- The consent export reads the log in recorded order, a page at a time by keyset on (recorded_at, id).
CREATE INDEX consent_events_recorded ON consent_events (recorded_at, id);
