-- +goose Up
-- A round rebuilds itself from this database (when restarted, or continued
-- as new), so every seat records whether it was a substitute and whether
-- the juror was recused for reporting the target.
ALTER TABLE case_jurors ADD COLUMN substitute boolean NOT NULL DEFAULT false;
ALTER TABLE case_jurors ADD COLUMN recused boolean NOT NULL DEFAULT false;
UPDATE case_jurors j SET substitute = true
WHERE EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = j.case_id AND e.kind = 'substituted' AND e.juror_id = j.juror_id);

-- The repair loop visits open cases round-robin and counts the restarts of
-- each case's round.
ALTER TABLE cases ADD COLUMN round_restarts integer NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN round_checked_at timestamptz;
CREATE INDEX cases_open_by_check ON cases (round_checked_at NULLS FIRST, created_at)
    WHERE status IN ('pending', 'voting');

ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small', 'recused', 'round_failed', 'round_restarted'));

-- +goose Down
DELETE FROM case_events WHERE kind IN ('recused', 'round_failed', 'round_restarted');
ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small'));
DROP INDEX cases_open_by_check;
ALTER TABLE cases DROP COLUMN round_checked_at;
ALTER TABLE cases DROP COLUMN round_restarts;
ALTER TABLE case_jurors DROP COLUMN recused;
ALTER TABLE case_jurors DROP COLUMN substitute;
