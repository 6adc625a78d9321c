-- +goose Up
-- A key's request is remembered with its answer, so that the same caller
-- reusing the key with another body is told so (409 idempotency_key_reused)
-- instead of receiving the first answer. Rows from before keep NULL where the
-- request is unknown (refusals) and are replayed as before.
ALTER TABLE redemption_requests ADD COLUMN sku text, ADD COLUMN quantity bigint;
UPDATE redemption_requests q SET sku = r.sku, quantity = r.quantity
FROM redemptions r WHERE r.id = q.redemption_id;

-- +goose Down
ALTER TABLE redemption_requests DROP COLUMN sku, DROP COLUMN quantity;
