-- +goose Up
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Units: the ministry, its departments, missions abroad and outside
-- agencies. parent_id is the current parent; unit_parents keeps history.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,         -- electronic agency code
    name_vi     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   INTEGER REFERENCES units(id),
    country     TEXT NOT NULL,                -- ISO 3166-1 alpha-2
    timezone    TEXT NOT NULL,                -- IANA zone
    status      TEXT NOT NULL DEFAULT 'active', -- active | merged
    merged_into INTEGER REFERENCES units(id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX units_parent ON units(parent_id);

-- Which parent a unit had, when (valid_to NULL: still).
CREATE TABLE unit_parents (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    parent_id  INTEGER REFERENCES units(id),
    valid_from TIMESTAMP NOT NULL,
    valid_to   TIMESTAMP
);
CREATE INDEX unit_parents_unit ON unit_parents(unit_id, valid_from);

-- Restructuring and other changes, newest last.
CREATE TABLE unit_events (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    kind          TEXT NOT NULL,   -- created | updated | moved | merged_into | absorbed
    effective_at  TIMESTAMP NOT NULL,
    recorded_at   TIMESTAMP NOT NULL,
    actor         TEXT NOT NULL,
    other_unit_id INTEGER REFERENCES units(id),
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX unit_events_unit ON unit_events(unit_id, id);

-- Staff accounts.
CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    full_name      TEXT NOT NULL,
    email          TEXT NOT NULL DEFAULT '',
    unit_id        INTEGER NOT NULL REFERENCES units(id),
    roles          TEXT NOT NULL DEFAULT '',   -- comma-separated role names
    clearance      INTEGER NOT NULL DEFAULT 0, -- 0 none .. 3 top secret
    oidc_subject   TEXT UNIQUE,          -- set when signed in through OIDC
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX staff_unit ON staff(unit_id);

-- Which unit a staff member belonged to, when.
CREATE TABLE memberships (
    id         INTEGER PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff(id),
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    valid_from TIMESTAMP NOT NULL,
    valid_to   TIMESTAMP,
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX memberships_staff ON memberships(staff_id, valid_from);
CREATE INDEX memberships_unit ON memberships(unit_id);

-- Citizens' portal accounts, separate from staff.
CREATE TABLE citizens (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,        -- lower-cased
    full_name     TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL
);

-- Credentials of staff and citizens, owned by internal/auth.
CREATE TABLE credentials (
    principal_kind TEXT NOT NULL,   -- staff | citizen
    principal_id   INTEGER NOT NULL,
    password_hash  TEXT NOT NULL DEFAULT '',  -- argon2id, PHC string form
    must_change_password INTEGER NOT NULL DEFAULT 0,
    totp_secret    BLOB,                    -- sealed by internal/keys
    totp_enabled   INTEGER NOT NULL DEFAULT 0,
    totp_last_step INTEGER NOT NULL DEFAULT 0,  -- refuses replay of a used code
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMP,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (principal_kind, principal_id)
);

-- Sessions and API tokens; only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    token_hash     TEXT PRIMARY KEY,
    principal_kind TEXT NOT NULL,   -- staff | citizen
    principal_id   INTEGER NOT NULL,
    stage          TEXT NOT NULL DEFAULT 'full', -- full | enroll_totp | change_password
    method         TEXT NOT NULL,   -- password | oidc
    csrf           TEXT NOT NULL,
    address        TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    last_seen_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_principal ON sessions(principal_kind, principal_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE credentials;
DROP TABLE citizens;
DROP TABLE memberships;
DROP TABLE staff;
DROP TABLE unit_events;
DROP TABLE unit_parents;
DROP TABLE units;
DROP TABLE meta;
