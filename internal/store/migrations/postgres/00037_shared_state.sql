-- +goose Up
-- State that several headquarters replicas on one database must share
-- (issue 16), so that no replica decides alone.
--
-- leases: a background job runs on one replica of the cluster at a time
-- (internal/lease). The holder renews its row before expires_us; another
-- replica takes it over only after that. fence grows with every new
-- holder, so work done under an older holding can be told from the
-- current one's.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    fence BIGINT NOT NULL,
    acquired_us BIGINT NOT NULL,
    expires_us BIGINT NOT NULL
);
-- auth_limits: the limits on guessing and on mail that internal/auth kept
-- in each process's memory. One row per limited thing: a client
-- address, an (account name, address) pair, a recipient, an account
-- watched for failures from many addresses. key is a prefix and the
-- thing (a pair's is a digest in hex). fails counts failures; start_us is
-- the window's start (or a pair's last failure); until_us is when a
-- waiting pair may try again, or 1 once an account's alert was raised;
-- a row whose expires_us has passed counts for nothing and is deleted.
CREATE TABLE auth_limits (
    key TEXT PRIMARY KEY,
    fails BIGINT NOT NULL,
    start_us BIGINT NOT NULL,
    until_us BIGINT NOT NULL,
    expires_us BIGINT NOT NULL
);
CREATE INDEX auth_limits_expires ON auth_limits (expires_us);
-- auth_spray: the addresses an account failed to sign in from in its
-- watch window (auth_limits' "spray:" row holds the window's start).
CREATE TABLE auth_spray (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    start_us BIGINT NOT NULL,
    PRIMARY KEY (account, address)
);
CREATE INDEX auth_spray_start ON auth_spray (start_us);

-- +goose Down
DROP TABLE auth_spray;
DROP TABLE auth_limits;
DROP TABLE leases;
