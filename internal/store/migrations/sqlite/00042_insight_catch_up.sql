-- +goose Up
-- What a parcel in insight's outbox carries, for tasks and rounds
-- ('task:<uid>', 'round:<uid>'; '' for other parcels and for those queued
-- before this migration): headquarters sends a mission the open tasks
-- and rounds made for its unit before the mission enrolled, and the
-- index says at once which ones it has queued for that mission already,
-- so each is queued once, whichever replica does it.
ALTER TABLE insight_outbox ADD COLUMN item TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX insight_outbox_item ON insight_outbox(recipient, item) WHERE item <> '';

-- +goose Down
DROP INDEX insight_outbox_item;
ALTER TABLE insight_outbox DROP COLUMN item;
