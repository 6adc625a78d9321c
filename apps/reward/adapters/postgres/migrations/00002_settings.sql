-- +goose Up
-- Operator settings, one row per key. This table is also the Dapr
-- configuration store (reward-config, configuration.postgresql): the trigger
-- notifies every replica's sidecar of each change.
CREATE TABLE settings (
    key      text PRIMARY KEY,
    value    text NOT NULL,
    version  text NOT NULL,
    metadata json
);

-- +goose StatementBegin
CREATE FUNCTION notify_settings() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('reward_settings',
        json_build_object('table', TG_TABLE_NAME, 'action', TG_OP, 'data', row_to_json(NEW))::text);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER settings_notify AFTER INSERT OR UPDATE ON settings
    FOR EACH ROW EXECUTE FUNCTION notify_settings();

-- +goose Down
DROP TABLE settings;
DROP FUNCTION notify_settings;
