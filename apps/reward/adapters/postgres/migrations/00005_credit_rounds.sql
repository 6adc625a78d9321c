-- +goose Up
-- A case may have an appeal round whose jurors are credited by its own
-- case-decided (round 2). Its jurors never sat in round 1, so the one jury
-- credit per (case, user) is one per (case, round, user); each credit
-- records its round.
ALTER TABLE ledger_entries ADD COLUMN round integer CHECK (round >= 1);
UPDATE ledger_entries SET round = 1 WHERE reason = 'jury_vote';

-- +goose Down
ALTER TABLE ledger_entries DROP COLUMN round;
