-- What a message was created from, so that its idempotency key used again with a different
-- request is refused instead of silently answering the first message. NULL for messages the
-- connector creates itself (consent replies) and for those created before this column.
ALTER TABLE messages ADD COLUMN request_hash text;
