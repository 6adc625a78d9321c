-- +goose Up
-- Rounds wait for votes without a durable timer each (workflow shape 2):
-- the report app wakes a round when its database says something is due.
-- wake_at is when a seat first needs its round (its reminder, or its
-- deadline once reminded or when no reminder comes first); a seat that
-- leaves 'drawn' needs nothing. woken_at is the last wake sent to the
-- case's round, so that a wake is sent once per due time and again only
-- when the round did not act on it.
ALTER TABLE case_jurors ADD COLUMN wake_at timestamptz;
CREATE INDEX case_jurors_due ON case_jurors (wake_at) WHERE state = 'drawn' AND wake_at IS NOT NULL;
ALTER TABLE cases ADD COLUMN woken_at timestamptz;
CREATE INDEX cases_voting_by_deadline ON cases (deadline) WHERE status = 'voting';

-- +goose Down
DROP INDEX cases_voting_by_deadline;
ALTER TABLE cases DROP COLUMN woken_at;
DROP INDEX case_jurors_due;
ALTER TABLE case_jurors DROP COLUMN wake_at;
