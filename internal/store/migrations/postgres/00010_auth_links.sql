-- +goose Up
-- Single-use links that internal/auth mails to citizens: confirming the
-- address of a registration (the account is created only then, from the
-- details kept here) and resetting a forgotten password. Only the
-- SHA-256 of a link's token is stored; a link ends when used or at
-- expires_at, and expired ones are swept.
CREATE TABLE auth_links (
    token_hash    TEXT PRIMARY KEY,
    purpose       TEXT NOT NULL,               -- register | reset
    email         TEXT NOT NULL,               -- lower-cased
    principal_id  BIGINT NOT NULL DEFAULT 0,   -- reset: the citizen
    full_name     TEXT NOT NULL DEFAULT '',    -- register: the account to create
    phone         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_links_expiry ON auth_links(expires_at);
CREATE INDEX auth_links_email ON auth_links(purpose, email);

-- +goose Down
DROP TABLE auth_links;
