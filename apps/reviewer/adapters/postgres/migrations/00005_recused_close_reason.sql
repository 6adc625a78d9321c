-- +goose Up
-- A juror recused for having reported the target closes their task as
-- "recused": a conflict, which counts neither as a vote nor as a timeout.
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_close_reason_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_close_reason_check
    CHECK (close_reason IN ('voted', 'released', 'recused', 'decided'));

-- +goose Down
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_close_reason_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_close_reason_check
    CHECK (close_reason IN ('voted', 'released', 'decided'));
