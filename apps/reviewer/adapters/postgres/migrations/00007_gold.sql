-- +goose Up
-- Gold cases (issue 12 §3), as the report service announces them: the task
-- they show and the answer a vote on them is judged against.
CREATE TABLE gold_cases (
    case_id         text PRIMARY KEY,
    target_kind     text NOT NULL,
    target_id       text NOT NULL,
    target_owner_id text NOT NULL,
    reason          text NOT NULL,
    answer          text NOT NULL CHECK (answer IN ('uphold', 'reject')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- set when the report service refused a seat on it: never offered again
    retired_at      timestamptz
);

-- One gold case given to one juror (its task is a row of tasks like any
-- other): the juror's measured answers are the rows with a vote.
CREATE TABLE gold_tasks (
    case_id     text NOT NULL REFERENCES gold_cases (case_id),
    juror_id    text NOT NULL REFERENCES jurors (user_id),
    answer      text NOT NULL CHECK (answer IN ('uphold', 'reject')),
    vote        text CHECK (vote IN ('uphold', 'reject')),
    correct     boolean,
    answered_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, juror_id),
    FOREIGN KEY (case_id, juror_id) REFERENCES tasks (case_id, juror_id)
);
CREATE INDEX gold_tasks_juror_idx ON gold_tasks (juror_id, created_at);

-- +goose Down
DROP TABLE gold_tasks;
DROP TABLE gold_cases;
