-- +goose Up
-- Every revision of the reward rules; the highest version is current.
CREATE TABLE reward_rules (
    version         bigint PRIMARY KEY CHECK (version >= 1),
    points_per_vote bigint NOT NULL CHECK (points_per_vote BETWEEN 1 AND 1000000),
    majority_bonus  bigint NOT NULL CHECK (majority_bonus BETWEEN 0 AND 1000000),
    daily_cap       bigint NOT NULL CHECK (daily_cap BETWEEN 0 AND 1000000),
    set_by          text NOT NULL,
    set_at          timestamptz NOT NULL DEFAULT now()
);

INSERT INTO reward_rules (version, points_per_vote, majority_bonus, daily_cap, set_by)
VALUES (1, 10, 5, 1000, 'default');

-- One row per user who ever had a ledger entry; the row is also the lock that
-- serialises every change to that user's points.
CREATE TABLE accounts (
    user_id    text PRIMARY KEY,
    balance    bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Append-only ledger: the balance is always the sum of a user's amounts.
CREATE TABLE ledger_entries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       text NOT NULL REFERENCES accounts (user_id),
    amount        bigint NOT NULL,
    reason        text NOT NULL,
    case_id       text,
    redemption_id text,
    rule_version  bigint REFERENCES reward_rules (version),
    credit_day    date,
    at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_jury_vote_shape CHECK (
        reason <> 'jury_vote'
        OR (case_id IS NOT NULL AND rule_version IS NOT NULL AND credit_day IS NOT NULL AND amount >= 0)
    )
);

-- Exactly one vote credit per (case, juror), however often the event arrives.
CREATE UNIQUE INDEX ledger_jury_vote_once ON ledger_entries (case_id, user_id) WHERE reason = 'jury_vote';
-- Account pages, newest first.
CREATE INDEX ledger_user_id_desc ON ledger_entries (user_id, id DESC);
-- Daily-cap sums.
CREATE INDEX ledger_jury_vote_day ON ledger_entries (user_id, credit_day) WHERE reason = 'jury_vote';

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE accounts;
DROP TABLE reward_rules;
