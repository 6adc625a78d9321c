-- +goose Up
-- Tables every service has, owned by kit and applied before the service's own
-- migrations (goose table kit_db_version). IF NOT EXISTS / OR REPLACE: the
-- settings table predates this file in databases made by earlier versions.

-- Operator settings, one row per key; also the service's Dapr configuration
-- store (configuration.postgresql). The trigger notifies the sidecars on the
-- channel govern_settings (NOTIFY channels are per database, so one name
-- serves every service).
CREATE TABLE IF NOT EXISTS settings (
    key      text PRIMARY KEY,
    value    text NOT NULL,
    version  text NOT NULL,
    metadata json
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION notify_settings() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('govern_settings',
        json_build_object('table', TG_TABLE_NAME, 'action', TG_OP, 'data', row_to_json(NEW))::text);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS settings_notify ON settings;
CREATE TRIGGER settings_notify AFTER INSERT OR UPDATE ON settings
    FOR EACH ROW EXECUTE FUNCTION notify_settings();

-- Side effects that must happen eventually (kit/outbox): written in the same
-- transaction as the change that causes them, carried out by the relay at
-- least once, deleted when done. A row whose effect can never succeed is kept
-- with dead_at set, for operators.
CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL,
    dedup_key  text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts   integer NOT NULL DEFAULT 0,
    next_at    timestamptz NOT NULL DEFAULT now(),
    last_error text NOT NULL DEFAULT '',
    dead_at    timestamptz
);
-- One pending effect per key: a repeated cause does not queue it twice.
CREATE UNIQUE INDEX outbox_pending_key ON outbox (dedup_key) WHERE dead_at IS NULL;
CREATE INDEX outbox_due ON outbox (next_at) WHERE dead_at IS NULL;

-- +goose Down
DROP TABLE outbox;
DROP TABLE settings;
DROP FUNCTION notify_settings;
