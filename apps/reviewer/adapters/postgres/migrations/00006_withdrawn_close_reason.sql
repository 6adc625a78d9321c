-- +goose Up
-- A juror whose case was withdrawn before they voted closes their task as
-- "withdrawn": nobody's fault, which counts neither as a vote nor as a
-- timeout; no decision will ever settle it, so it is settled at once.
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_close_reason_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_close_reason_check
    CHECK (close_reason IN ('voted', 'released', 'recused', 'decided', 'withdrawn'));

-- +goose Down
UPDATE tasks SET close_reason = 'decided' WHERE close_reason = 'withdrawn';
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_close_reason_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_close_reason_check
    CHECK (close_reason IN ('voted', 'released', 'recused', 'decided'));
