-- +goose Up
-- Appeals: the losing side may appeal a decision once; the appeal round
-- (round 2) draws a larger jury of people who did not sit in round 1, and
-- its decision replaces the first. The cases row always holds the current
-- round; case_rounds keeps each round it replaced, and every seat and
-- timeline event names its round (set from the case row on insert).
CREATE TABLE appeals (
    id         text PRIMARY KEY,
    -- one appeal per case: the second request meets this constraint
    case_id    text NOT NULL UNIQUE REFERENCES cases (id),
    by_user    text NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE case_rounds (
    case_id      text NOT NULL REFERENCES cases (id),
    round        integer NOT NULL CHECK (round >= 1),
    jury_size    integer NOT NULL,
    quorum       integer NOT NULL,
    tally_uphold integer NOT NULL,
    tally_reject integer NOT NULL,
    decision     text NOT NULL,
    decided_at   timestamptz NOT NULL,
    decided_by   text NOT NULL,
    resolved_by  text,
    published    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (case_id, round)
);

ALTER TABLE case_jurors ADD COLUMN round integer NOT NULL DEFAULT 1;
ALTER TABLE case_events ADD COLUMN round integer NOT NULL DEFAULT 1;
DROP INDEX case_events_once;
CREATE UNIQUE INDEX case_events_once ON case_events (case_id, round, kind, juror_id);

-- +goose StatementBegin
CREATE FUNCTION set_case_round() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.round := coalesce((SELECT round FROM cases WHERE id = NEW.case_id), 1);
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER case_jurors_round BEFORE INSERT ON case_jurors FOR EACH ROW EXECUTE FUNCTION set_case_round();
CREATE TRIGGER case_events_round BEFORE INSERT ON case_events FOR EACH ROW EXECUTE FUNCTION set_case_round();

ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small', 'recused', 'round_failed', 'round_restarted', 'resolved',
    'withdrawn', 'appealed'));

-- +goose Down
DELETE FROM case_events WHERE kind = 'appealed' OR round > 1;
ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('drawn', 'reminded', 'timed_out',
    'substituted', 'voted', 'decided', 'pool_too_small', 'recused', 'round_failed', 'round_restarted', 'resolved',
    'withdrawn'));
DROP TRIGGER case_events_round ON case_events;
DROP TRIGGER case_jurors_round ON case_jurors;
DROP FUNCTION set_case_round();
DROP INDEX case_events_once;
CREATE UNIQUE INDEX case_events_once ON case_events (case_id, kind, juror_id);
ALTER TABLE case_events DROP COLUMN round;
ALTER TABLE case_jurors DROP COLUMN round;
DROP TABLE case_rounds;
DROP TABLE appeals;
