-- +goose Up
-- Appeals: a case may have a second round (its appeal's), whose decision is
-- final. Tasks name their round, and case-decided is applied once per
-- (case, round); the appeal's decision regrades the first round's votes.
ALTER TABLE tasks ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round >= 1);
ALTER TABLE decided_cases ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round >= 1);
ALTER TABLE decided_cases DROP CONSTRAINT decided_cases_pkey;
ALTER TABLE decided_cases ADD PRIMARY KEY (case_id, round);

-- +goose Down
DELETE FROM decided_cases WHERE round > 1;
ALTER TABLE decided_cases DROP CONSTRAINT decided_cases_pkey;
ALTER TABLE decided_cases ADD PRIMARY KEY (case_id);
ALTER TABLE decided_cases DROP COLUMN round;
ALTER TABLE tasks DROP COLUMN round;
