-- +goose Up
-- The staff queue: an operator decides an escalated or undecided case. The
-- case keeps its jury's tally and records who decided (decided_by: jury or
-- staff), the operator (resolved_by) and their note. Every case-decided
-- names its round (1 for the first jury).
ALTER TABLE cases ADD COLUMN decided_by text NOT NULL DEFAULT 'jury' CHECK (decided_by IN ('jury', 'staff'));
ALTER TABLE cases ADD COLUMN resolved_by text;
ALTER TABLE cases ADD COLUMN resolution_note text;
ALTER TABLE cases ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round >= 1);

ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small', 'recused', 'round_failed', 'round_restarted', 'resolved'));

-- +goose Down
DELETE FROM case_events WHERE kind = 'resolved';
ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small', 'recused', 'round_failed', 'round_restarted'));
ALTER TABLE cases DROP COLUMN round;
ALTER TABLE cases DROP COLUMN resolution_note;
ALTER TABLE cases DROP COLUMN resolved_by;
ALTER TABLE cases DROP COLUMN decided_by;
