-- +goose Up
-- The exchange registry (internal/exchange/registry), kept at headquarters:
-- the members' subsystems, their services, the access rights between
-- them, the nodes whose keys headquarters certifies, the one-time
-- enrolment tokens of mission nodes, and the signed global configurations
-- published from all of it. Members are the directory's units and are not
-- copied here. Times are microseconds since the Unix epoch (UTC), as in
-- the exchange node's tables.

-- One row: the serial of the latest published configuration. Every change
-- of the registry starts by incrementing it, which also serialises the
-- changes, so each configuration is built from one consistent state.
CREATE TABLE registry_state (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    serial INTEGER NOT NULL
);
INSERT INTO registry_state (id, serial) VALUES (1, 0);

-- A member's information systems. member is the unit's agency code.
CREATE TABLE registry_subsystems (
    member     TEXT NOT NULL,
    code       TEXT NOT NULL,
    title      TEXT NOT NULL,
    clearance  INTEGER NOT NULL,        -- authz.Level, 0 none .. 3 top secret
    created_us INTEGER NOT NULL,
    PRIMARY KEY (member, code)
);

-- Services offered by subsystems. version is '' for an unversioned one.
CREATE TABLE registry_services (
    id          INTEGER PRIMARY KEY,
    member      TEXT NOT NULL,
    subsystem   TEXT NOT NULL,
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    kind        TEXT NOT NULL,          -- rest | async
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    backend     TEXT NOT NULL,          -- base URL of a REST service's backend
    openapi     TEXT NOT NULL,          -- a REST service's OpenAPI 3 document
    max_level   INTEGER NOT NULL,
    created_us  INTEGER NOT NULL,
    updated_us  INTEGER NOT NULL,
    UNIQUE (member, subsystem, service, version),
    FOREIGN KEY (member, subsystem) REFERENCES registry_subsystems(member, code)
);

-- Access rights: a client subsystem may use a service. Nothing else is
-- allowed. A revoked right keeps its row (who granted and revoked it,
-- when); a new grant is a new row.
CREATE TABLE registry_rights (
    id               INTEGER PRIMARY KEY,
    service_id       INTEGER NOT NULL REFERENCES registry_services(id) ON DELETE CASCADE,
    client_member    TEXT NOT NULL,
    client_subsystem TEXT NOT NULL,
    granted_by       TEXT NOT NULL,
    granted_us       INTEGER NOT NULL,
    revoked_by       TEXT NOT NULL DEFAULT '',
    revoked_us       INTEGER,
    FOREIGN KEY (client_member, client_subsystem) REFERENCES registry_subsystems(member, code)
);
CREATE UNIQUE INDEX registry_rights_active ON registry_rights(service_id, client_member, client_subsystem) WHERE revoked_us IS NULL;

-- Nodes whose keys headquarters certifies: itself and each enrolled
-- mission. member is the agency code of the unit that runs the node.
CREATE TABLE registry_nodes (
    id             TEXT PRIMARY KEY,
    role           TEXT NOT NULL,       -- hq | mission
    member         TEXT NOT NULL,
    domain         TEXT NOT NULL,       -- JetStream domain of the node's server
    signing_key    BLOB NOT NULL,       -- Ed25519 public key
    signing_key_id TEXT NOT NULL,
    encryption_key BLOB NOT NULL,       -- X25519 + ML-KEM-768 public key
    certified_us   INTEGER NOT NULL,
    revoked_us     INTEGER,
    revoked_reason TEXT NOT NULL DEFAULT '',
    revoked_by     TEXT NOT NULL DEFAULT ''
);
-- One headquarters node; one node in service per mission.
CREATE UNIQUE INDEX registry_nodes_hq ON registry_nodes(role) WHERE role = 'hq';
CREATE UNIQUE INDEX registry_nodes_member ON registry_nodes(member) WHERE revoked_us IS NULL AND role = 'mission';

-- One-time enrolment tokens for mission nodes, kept only as SHA-256.
CREATE TABLE registry_enrolments (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    member     TEXT NOT NULL,
    issued_by  TEXT NOT NULL,
    issued_us  INTEGER NOT NULL,
    expires_us INTEGER NOT NULL,
    used_us    INTEGER,
    node_id    TEXT NOT NULL DEFAULT ''
);

-- The latest signed global configurations, newest by serial.
CREATE TABLE registry_confs (
    serial     INTEGER PRIMARY KEY,
    data       BLOB NOT NULL,
    issued_us  INTEGER NOT NULL,
    expires_us INTEGER NOT NULL
);

-- +goose Down
DROP TABLE registry_confs;
DROP TABLE registry_enrolments;
DROP TABLE registry_nodes;
DROP TABLE registry_rights;
DROP TABLE registry_services;
DROP TABLE registry_subsystems;
DROP TABLE registry_state;
