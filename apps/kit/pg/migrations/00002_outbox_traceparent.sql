-- +goose Up
-- The W3C traceparent of the transaction that enqueued an effect: the relay
-- carries the effect out in that trace (kit/outbox), so a decision's
-- publication belongs to the round that decided it.
ALTER TABLE outbox ADD COLUMN traceparent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN traceparent;
