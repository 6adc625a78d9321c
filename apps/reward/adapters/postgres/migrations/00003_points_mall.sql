-- +goose Up
-- The points mall: items, redemptions, and the first answer to every
-- idempotency key. Bounds are repeated here so that no code path can store a
-- negative stock or balance, or an oversized product.
CREATE TABLE catalog_items (
    sku        text PRIMARY KEY CHECK (char_length(sku) BETWEEN 1 AND 64),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    price      bigint NOT NULL CHECK (price BETWEEN 1 AND 1000000000),
    stock      bigint NOT NULL CHECK (stock BETWEEN 0 AND 1000000000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE redemptions (
    id              text PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    user_id         text NOT NULL REFERENCES accounts (user_id),
    sku             text NOT NULL REFERENCES catalog_items (sku),
    quantity        bigint NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    points          bigint NOT NULL CHECK (points > 0),
    idempotency_key text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX redemptions_user_seq ON redemptions (user_id, seq DESC);

-- One row per (user, idempotency key), inserted first by the request that
-- claims the key; concurrent requests with the same key wait on it and then
-- read the answer it stored: a redemption or a refusal.
CREATE TABLE redemption_requests (
    user_id         text NOT NULL,
    idempotency_key text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    redemption_id   text REFERENCES redemptions (id),
    refusal_code    text,
    refusal_message text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, idempotency_key),
    CHECK (redemption_id IS NULL OR refusal_code IS NULL)
);

ALTER TABLE ledger_entries
    ADD CONSTRAINT ledger_redemption_fk FOREIGN KEY (redemption_id) REFERENCES redemptions (id),
    ADD CONSTRAINT ledger_redemption_shape CHECK (
        reason <> 'redemption' OR (redemption_id IS NOT NULL AND amount < 0)
    );
-- One debit per redemption.
CREATE UNIQUE INDEX ledger_redemption_once ON ledger_entries (redemption_id) WHERE reason = 'redemption';

-- The ledger is append-only: corrections are new entries, never edits.
-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only';
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER ledger_no_change BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- +goose Down
DROP TRIGGER ledger_no_change ON ledger_entries;
DROP FUNCTION ledger_append_only;
DROP INDEX ledger_redemption_once;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_redemption_shape, DROP CONSTRAINT ledger_redemption_fk;
DROP TABLE redemption_requests;
DROP TABLE redemptions;
DROP TABLE catalog_items;
