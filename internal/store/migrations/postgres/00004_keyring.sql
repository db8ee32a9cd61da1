-- +goose Up
-- The node's keyring: data keys and signing keys, wrapped by the master
-- key (which is never stored here). One row; rev makes saves from several
-- replicas compare-and-swap, so no rotation overwrites another.
CREATE TABLE keyring (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    data BYTEA NOT NULL,
    rev  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE keyring;
