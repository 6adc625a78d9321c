-- +goose Up
-- Gold cases (issue 12 §3): cases with a known answer that operators write
-- and the reviewer service mixes into jurors' inboxes. They live apart from
-- cases: no round, no decision, never on case-decided.
CREATE TABLE gold_cases (
    id              text PRIMARY KEY,
    target_kind     text NOT NULL,
    target_id       text NOT NULL,
    target_owner_id text NOT NULL,
    reason          text NOT NULL,
    evidence        text[] NOT NULL DEFAULT '{}',
    answer          text NOT NULL CHECK (answer IN ('uphold', 'reject')),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gold_cases_created_idx ON gold_cases (created_at DESC, id DESC);

-- A juror the reviewer service gave a gold task: the seat that lets their
-- vote in, once, before the task's deadline.
CREATE TABLE gold_seats (
    case_id   text NOT NULL REFERENCES gold_cases (id),
    juror_id  text NOT NULL,
    deadline  timestamptz NOT NULL,
    seated_at timestamptz NOT NULL DEFAULT now(),
    vote      text CHECK (vote IN ('uphold', 'reject')),
    comment   text,
    voted_at  timestamptz,
    PRIMARY KEY (case_id, juror_id)
);

-- +goose Down
DROP TABLE gold_seats;
DROP TABLE gold_cases;
