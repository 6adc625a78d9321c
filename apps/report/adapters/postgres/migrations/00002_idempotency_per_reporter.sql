-- +goose Up
-- Idempotency keys belong to their reporter: the same key from two reporters
-- files two reports. The fingerprint (SHA-256 of the canonical report) tells
-- a replay from a key reused with a different report; rows filed before this
-- migration have none and replay as before.
ALTER TABLE reports DROP CONSTRAINT reports_idempotency_key_key;
ALTER TABLE reports ADD COLUMN fingerprint text;
ALTER TABLE reports ADD CONSTRAINT reports_reporter_key UNIQUE (reporter_id, idempotency_key);

-- +goose Down
ALTER TABLE reports DROP CONSTRAINT reports_reporter_key;
ALTER TABLE reports DROP COLUMN fingerprint;
ALTER TABLE reports ADD CONSTRAINT reports_idempotency_key_key UNIQUE (idempotency_key);
