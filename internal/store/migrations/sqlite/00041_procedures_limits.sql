-- +goose Up
-- procedures_limits: the limits on population lookups (per account) and on
-- public tracking (per client address) that internal/procedures kept in
-- each process's memory, shared by every replica of headquarters (issue
-- 16). One row per limited key, a token bucket kept as its theoretical
-- arrival time (GCRA): tat_us is when the bucket is full again, so a row
-- whose tat_us has passed counts for nothing and is deleted.
CREATE TABLE procedures_limits (
    key TEXT PRIMARY KEY,
    tat_us INTEGER NOT NULL
);
CREATE INDEX procedures_limits_tat ON procedures_limits (tat_us);

-- +goose Down
DROP TABLE procedures_limits;
