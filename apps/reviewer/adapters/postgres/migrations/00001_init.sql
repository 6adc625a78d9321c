-- +goose Up
CREATE TABLE profiles (
    user_id        text PRIMARY KEY,
    tags           text[] NOT NULL DEFAULT '{}',
    last_active_at timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_tags_idx ON profiles USING gin (tags);

CREATE TABLE jurors (
    user_id     text PRIMARY KEY REFERENCES profiles (user_id),
    state       text NOT NULL DEFAULT 'active'
                CHECK (state IN ('active', 'paused', 'suspended', 'retired')),
    assigned    integer NOT NULL DEFAULT 0,
    voted       integer NOT NULL DEFAULT 0,
    agreed      integer NOT NULL DEFAULT 0,
    timed_out   integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row at most: the operator's rule. Without a row the default applies.
CREATE TABLE pool_rule (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    required_tags text[] NOT NULL,
    active_within bigint NOT NULL CHECK (active_within >= 1000000000), -- nanoseconds
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE draws (
    draw_id    text PRIMARY KEY,
    case_id    text NOT NULL,
    jurors     text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX draws_case_idx ON draws (case_id);

CREATE TABLE tasks (
    case_id         text NOT NULL,
    juror_id        text NOT NULL REFERENCES jurors (user_id),
    draw_id         text NOT NULL REFERENCES draws (draw_id),
    target_kind     text NOT NULL,
    target_id       text NOT NULL,
    target_owner_id text NOT NULL,
    reason          text NOT NULL,
    deadline        timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    close_reason    text CHECK (close_reason IN ('voted', 'released', 'decided')),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at       timestamptz,
    PRIMARY KEY (case_id, juror_id),
    CHECK ((status = 'open') = (close_reason IS NULL))
);
CREATE INDEX tasks_open_by_juror_idx ON tasks (juror_id, created_at, case_id) WHERE status = 'open';

-- +goose Down
DROP TABLE tasks;
DROP TABLE draws;
DROP TABLE pool_rule;
DROP TABLE jurors;
DROP TABLE profiles;
