-- +goose Up
-- Every side effect of the report service goes through kit's outbox table,
-- written in the transaction of the change that causes it.

-- A closed case's decision is either waiting in the outbox or published
-- (this marker); the repair loop checks that invariant. Cases closed before
-- this migration have no marker and are published again, at least once, as
-- consumers already deduplicate.
ALTER TABLE cases ADD COLUMN decision_published_at timestamptz;
CREATE INDEX cases_decision_unpublished ON cases (decided_at)
    WHERE decided_at IS NOT NULL AND decision_published_at IS NULL;

-- Votes not yet handed to their round were re-sent by a sweeper from this
-- flag; they become outbox rows.
INSERT INTO outbox (kind, dedup_key, payload)
SELECT 'report.round-event', 'round-event:' || j.case_id || ':' || j.juror_id || ':vote',
       jsonb_build_object('case_id', j.case_id, 'juror_id', j.juror_id, 'decision', j.decision)
FROM case_jurors j JOIN cases c ON c.id = j.case_id AND c.status IN ('pending', 'voting')
WHERE j.state = 'voted' AND NOT j.vote_delivered
ON CONFLICT (dedup_key) WHERE dead_at IS NULL DO NOTHING;
DROP INDEX case_jurors_undelivered;
ALTER TABLE case_jurors DROP COLUMN vote_delivered;

-- +goose Down
ALTER TABLE case_jurors ADD COLUMN vote_delivered boolean NOT NULL DEFAULT true;
CREATE INDEX case_jurors_undelivered ON case_jurors (voted_at) WHERE state = 'voted' AND NOT vote_delivered;
DROP INDEX cases_decision_unpublished;
ALTER TABLE cases DROP COLUMN decision_published_at;
