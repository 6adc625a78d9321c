-- +goose Up
-- A reporter's record (GET /v1/reporters/{id}) and the daily report cap
-- count a reporter's reports, the cap those since the UTC day began.
CREATE INDEX reports_by_reporter ON reports (reporter_id, created_at);

-- +goose Down
DROP INDEX reports_by_reporter;
