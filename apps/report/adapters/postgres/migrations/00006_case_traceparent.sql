-- +goose Up
-- The W3C traceparent of the report that opened the case: the case's round
-- (started asynchronously, restarted by the repair loop) runs in that trace.
ALTER TABLE cases ADD COLUMN traceparent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE cases DROP COLUMN traceparent;
