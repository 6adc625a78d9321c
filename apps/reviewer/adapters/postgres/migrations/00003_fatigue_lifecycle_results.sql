-- +goose Up
-- Selection samples jurors by a dense random-access key (see draws.go).
ALTER TABLE jurors
    ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN suspended_until timestamptz,
    -- close of the juror's most recent task: the start of the cooldown
    ADD COLUMN last_closed_at timestamptz,
    -- the adjustment rule only judges tasks drawn since this moment (the
    -- juror's last restoration), so a restored juror starts afresh
    ADD COLUMN judged_since timestamptz NOT NULL DEFAULT '-infinity';
CREATE UNIQUE INDEX jurors_seq_idx ON jurors (seq);
CREATE INDEX jurors_suspended_until_idx ON jurors (suspended_until) WHERE state = 'suspended';

CREATE TABLE juror_transitions (
    id         bigserial PRIMARY KEY,
    user_id    text NOT NULL REFERENCES jurors (user_id),
    from_state text NOT NULL,
    to_state   text NOT NULL,
    reason     text NOT NULL,
    actor      text NOT NULL,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX juror_transitions_user_idx ON juror_transitions (user_id, id DESC);

ALTER TABLE tasks
    ADD COLUMN voted_at    timestamptz,
    ADD COLUMN vote        text CHECK (vote IN ('uphold', 'reject')),
    ADD COLUMN decision    text,
    ADD COLUMN agreed      boolean,
    -- when the task's outcome became final: its release, or its case's decision
    ADD COLUMN settled_at  timestamptz;
-- fatigue (tasks drawn in the last 24 hours), stats and the adjustment window
CREATE INDEX tasks_by_juror_idx ON tasks (juror_id, created_at DESC);

-- case-decided is applied once per case.
CREATE TABLE decided_cases (
    case_id    text PRIMARY KEY,
    decision   text NOT NULL,
    decided_at timestamptz,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- The pool rule becomes a live setting like fatigue and adjustment.
INSERT INTO settings (key, value, version)
SELECT 'pool-rule',
       json_build_object('required_tags', to_json(required_tags),
                         'active_within', (active_within / 1000000000)::text || 's')::text,
       '1'
FROM pool_rule
ON CONFLICT (key) DO NOTHING;
DROP TABLE pool_rule;

-- Every replica listens on reviewer_tasks to push new tasks to its streams.
-- +goose StatementBegin
CREATE FUNCTION notify_task() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('reviewer_tasks', json_build_object('case_id', NEW.case_id, 'juror_id', NEW.juror_id)::text);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER tasks_notify AFTER INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION notify_task();

-- +goose Down
DROP TRIGGER tasks_notify ON tasks;
DROP FUNCTION notify_task;
CREATE TABLE pool_rule (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    required_tags text[] NOT NULL,
    active_within bigint NOT NULL CHECK (active_within >= 1000000000),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
DELETE FROM settings WHERE key = 'pool-rule';
DROP TABLE decided_cases;
DROP INDEX tasks_by_juror_idx;
ALTER TABLE tasks DROP COLUMN voted_at, DROP COLUMN vote, DROP COLUMN decision, DROP COLUMN agreed, DROP COLUMN settled_at;
DROP TABLE juror_transitions;
ALTER TABLE jurors DROP COLUMN seq, DROP COLUMN suspended_until, DROP COLUMN last_closed_at, DROP COLUMN judged_since;
