-- +goose Up
-- Withdrawal: an open case's round is ended without a decision (status
-- withdrawn, who and why recorded); its open tasks are released and nobody
-- is paid. Every decision also sends case-outcome notices (outbox only).
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('pending', 'voting', 'upheld', 'rejected',
    'undecided', 'escalated', 'withdrawn'));
ALTER TABLE cases ADD COLUMN withdrawn_by text;
ALTER TABLE cases ADD COLUMN withdrawal_reason text;

ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small', 'recused', 'round_failed', 'round_restarted', 'resolved',
    'withdrawn'));

-- +goose Down
DELETE FROM case_events WHERE kind = 'withdrawn';
ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small', 'recused', 'round_failed', 'round_restarted', 'resolved'));
ALTER TABLE cases DROP COLUMN withdrawal_reason;
ALTER TABLE cases DROP COLUMN withdrawn_by;
UPDATE cases SET status = 'escalated' WHERE status = 'withdrawn';
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('pending', 'voting', 'upheld', 'rejected',
    'undecided', 'escalated'));
