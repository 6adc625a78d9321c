-- +goose Up
-- Operator settings (vote policies, key "policy.<kind>") live in kit's
-- settings table (apps/kit/pg/migrations), the Dapr configuration store.

CREATE TABLE cases (
    id               text PRIMARY KEY,
    target_kind      text NOT NULL,
    target_id        text NOT NULL,
    target_owner     text NOT NULL,
    reason           text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'voting', 'upheld', 'rejected', 'undecided', 'escalated')),
    policy           jsonb NOT NULL,
    report_count     integer NOT NULL DEFAULT 0,
    deadline         timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    round_started_at timestamptz,
    decided_at       timestamptz,
    tally_uphold     integer,
    tally_reject     integer
);
-- One open case per target: concurrent first reports of a target meet here.
CREATE UNIQUE INDEX cases_one_open_per_target ON cases (target_kind, target_id)
    WHERE status IN ('pending', 'voting');
CREATE INDEX cases_created ON cases (created_at DESC, id DESC);
CREATE INDEX cases_round_not_started ON cases (created_at) WHERE round_started_at IS NULL;
CREATE INDEX cases_by_target ON cases (target_kind, target_id, decided_at DESC);

CREATE TABLE reports (
    id              text PRIMARY KEY,
    idempotency_key text UNIQUE,
    reporter_id     text NOT NULL,
    case_id         text NOT NULL REFERENCES cases (id),
    target_kind     text NOT NULL,
    target_id       text NOT NULL,
    target_owner    text NOT NULL,
    reason          text NOT NULL,
    evidence        jsonb NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reports_one_per_reporter_and_case UNIQUE (case_id, reporter_id)
);

-- Everyone drawn for a case and what became of them; a vote is immutable.
CREATE TABLE case_jurors (
    case_id   text NOT NULL REFERENCES cases (id),
    juror_id  text NOT NULL,
    state     text NOT NULL CHECK (state IN ('drawn', 'voted', 'released')),
    drawn_at  timestamptz NOT NULL,
    deadline  timestamptz NOT NULL,
    decision  text CHECK (decision IN ('uphold', 'reject')),
    comment   text,
    voted_at  timestamptz,
    -- the vote reached the case's workflow; the sweeper re-sends those that did not
    vote_delivered boolean NOT NULL DEFAULT false,
    PRIMARY KEY (case_id, juror_id),
    CHECK ((state = 'voted') = (decision IS NOT NULL))
);

CREATE INDEX case_jurors_undelivered ON case_jurors (voted_at) WHERE state = 'voted' AND NOT vote_delivered;

-- What happened in a case, in order: drawn, reminded, timed_out,
-- substituted, voted, decided. Activities may run twice, so an event that
-- happens once per juror is recorded once.
CREATE TABLE case_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id  text NOT NULL REFERENCES cases (id),
    at       timestamptz NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('drawn', 'reminded', 'timed_out', 'substituted', 'voted', 'decided', 'pool_too_small')),
    juror_id text NOT NULL DEFAULT '',
    detail   text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX case_events_once ON case_events (case_id, kind, juror_id);
CREATE INDEX case_events_by_case ON case_events (case_id, id);

-- +goose Down
DROP TABLE case_events;
DROP TABLE case_jurors;
DROP TABLE reports;
DROP TABLE cases;
