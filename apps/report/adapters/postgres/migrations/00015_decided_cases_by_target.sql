-- +goose NO TRANSACTION
-- +goose Up
-- The cool-down lookup of the filing statement (adapters/postgres/filing.go:
-- "decided_at > $15") is the only reader of the by-target index, and it
-- reads decided cases only. Indexing only those takes one index entry off
-- every new case and off every row version an open case writes on its way
-- to its decision (round started, jury drawn, voting, pool waits, checks):
-- those updates touch indexed columns, so each writes an entry in every
-- index whose predicate the new version meets. CONCURRENTLY, because cases
-- is the intake's table: building the index does not block filing.
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_decided_by_target ON cases (target_kind, target_id, decided_at DESC)
    WHERE decided_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS cases_by_target;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_by_target ON cases (target_kind, target_id, decided_at DESC);
DROP INDEX CONCURRENTLY IF EXISTS cases_decided_by_target;
