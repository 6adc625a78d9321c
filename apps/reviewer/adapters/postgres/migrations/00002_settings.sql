-- +goose Up
-- The settings table (the Dapr configuration store) and its notify trigger
-- are kit's now (apps/kit/pg/migrations), applied before this service's own
-- migrations; this version stays so that numbering and history hold.
SELECT 1;

-- +goose Down
SELECT 1;
