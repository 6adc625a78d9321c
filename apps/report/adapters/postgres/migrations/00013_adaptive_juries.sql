-- +goose Up
-- Adaptive juries: each seat keeps the reliability the reviewer estimated
-- when the juror was drawn (its vote's weight), and a case closed by an
-- adaptive jury keeps the confidence its decision reached.
ALTER TABLE case_jurors ADD COLUMN reliability_uphold double precision,
                        ADD COLUMN reliability_reject double precision;
ALTER TABLE cases ADD COLUMN confidence double precision;

-- +goose Down
ALTER TABLE cases DROP COLUMN confidence;
ALTER TABLE case_jurors DROP COLUMN reliability_uphold, DROP COLUMN reliability_reject;
