-- +goose Up
-- Cases waiting for the juror pool are drawn in the order of their
-- reporters' summed credibility. A pending case whose draw the pool could
-- not serve records when (pool_wait_at), its rank then (pool_rank) and the
-- jurors it needs (pool_need); a jury drawn, or the case closed, clears the
-- marker. Only a marker refreshed recently counts as waiting (the round
-- retries at least every pool back-off): that of a round gone holds nobody
-- back. Each jury
-- draw reads the head of the queue it competes in from this partial index.
ALTER TABLE cases ADD COLUMN pool_wait_at timestamptz;
ALTER TABLE cases ADD COLUMN pool_rank double precision NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN pool_need integer NOT NULL DEFAULT 0;
CREATE INDEX cases_waiting_for_pool ON cases (pool_rank DESC, created_at, id)
    WHERE status = 'pending' AND pool_wait_at IS NOT NULL;

-- +goose Down
DROP INDEX cases_waiting_for_pool;
ALTER TABLE cases DROP COLUMN pool_need;
ALTER TABLE cases DROP COLUMN pool_rank;
ALTER TABLE cases DROP COLUMN pool_wait_at;
