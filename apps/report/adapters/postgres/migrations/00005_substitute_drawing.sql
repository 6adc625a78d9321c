-- +goose Up
-- While a substitute is being drawn (the reviewer has made its task visible,
-- this database has not recorded the seat yet), a vote from someone not yet
-- recorded is "jury not ready" (409), not "never drawn" (403).
ALTER TABLE cases ADD COLUMN drawing_until timestamptz;

-- +goose Down
ALTER TABLE cases DROP COLUMN drawing_until;
