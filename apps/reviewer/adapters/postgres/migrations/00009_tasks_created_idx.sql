-- +goose Up
-- The pool gauge (PoolSize) finds the jurors at their daily limit from the
-- tasks of the last 24 hours: by this index, not by a scan of the whole task
-- history every gauge interval.
CREATE INDEX tasks_created_idx ON tasks (created_at);

-- +goose Down
DROP INDEX tasks_created_idx;
