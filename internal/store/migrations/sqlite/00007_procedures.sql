-- +goose Up
-- Administrative procedures (internal/procedures): applications being
-- prepared, dossiers with their history and attachments, the per-unit daily
-- sequence of dossier codes, payments, and the outbox of status reports to
-- the National Public Service Portal. Times are microseconds since the Unix
-- epoch (UTC); 0 means "not yet". Form contents are sealed by the keyring
-- (purpose "procedures"): they hold applicants' personal data.

-- An application a citizen is preparing on the portal: the form and the
-- attachments are kept, and the fee paid, before it is submitted and
-- becomes a dossier. The id is a random token known only to its author.
CREATE TABLE procedure_drafts (
    id             TEXT PRIMARY KEY,
    procedure_code TEXT NOT NULL,
    unit_id        INTEGER NOT NULL REFERENCES units(id),
    citizen_id     INTEGER REFERENCES citizens(id),
    form           BLOB NOT NULL,             -- sealed JSON object
    prefilled      INTEGER NOT NULL DEFAULT 0, -- filled from the population database
    fee_amount     INTEGER NOT NULL DEFAULT 0,
    fee_currency   TEXT NOT NULL DEFAULT '',
    paid_us        INTEGER NOT NULL DEFAULT 0,
    payment_ref    TEXT NOT NULL DEFAULT '',
    created_us     INTEGER NOT NULL,
    expires_us     INTEGER NOT NULL
);
CREATE INDEX procedure_drafts_expiry ON procedure_drafts(expires_us);

CREATE TABLE dossiers (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,     -- {agency code}-{yymmdd}-{seq}
    procedure_code   TEXT NOT NULL,
    unit_id          INTEGER NOT NULL REFERENCES units(id),
    channel          INTEGER NOT NULL,         -- 1 in person, 2 online, 3 postal
    status           INTEGER NOT NULL,         -- the national status, 1..10
    open             INTEGER NOT NULL DEFAULT 1, -- 0 once refused at intake, stopped or returned
    lifecycle        TEXT NOT NULL,            -- procedures.Lifecycle as JSON
    applicant_name   TEXT NOT NULL,
    applicant_email  TEXT NOT NULL DEFAULT '',
    citizen_id       INTEGER REFERENCES citizens(id),
    form             BLOB NOT NULL,            -- sealed JSON object
    prefilled        INTEGER NOT NULL DEFAULT 0,
    digitised        INTEGER NOT NULL DEFAULT 0, -- every required document attached
    assignee_id      INTEGER REFERENCES staff(id),
    fee_amount       INTEGER NOT NULL DEFAULT 0,
    fee_currency     TEXT NOT NULL DEFAULT '',
    paid             INTEGER NOT NULL DEFAULT 0,
    paid_online      INTEGER NOT NULL DEFAULT 0,
    submitted_us     INTEGER NOT NULL,
    received_us      INTEGER NOT NULL DEFAULT 0,
    due_us           INTEGER NOT NULL DEFAULT 0, -- the deadline as of the last change
    appointment_us   INTEGER NOT NULL DEFAULT 0, -- promised on the receipt (or the apology letter)
    finished_us      INTEGER NOT NULL DEFAULT 0,
    returned_us      INTEGER NOT NULL DEFAULT 0,
    late             INTEGER NOT NULL DEFAULT 0, -- finished after its deadline
    outcome          TEXT NOT NULL DEFAULT '',
    result_blob      TEXT NOT NULL DEFAULT '',   -- the signed electronic result
    result_sig       TEXT NOT NULL DEFAULT '',   -- key id and Ed25519 signature
    rating           INTEGER NOT NULL DEFAULT 0, -- 1..5 given by the applicant; 0 none
    portal_status    INTEGER NOT NULL DEFAULT 0, -- last status sent to the national portal
    updated_us       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX dossiers_queue ON dossiers(unit_id, status, due_us, id);
CREATE INDEX dossiers_open ON dossiers(unit_id, open, due_us, id);
CREATE INDEX dossiers_citizen ON dossiers(citizen_id, submitted_us);
CREATE INDEX dossiers_submitted ON dossiers(unit_id, submitted_us);
CREATE INDEX dossiers_submitted_all ON dossiers(submitted_us);
CREATE INDEX dossiers_assignee ON dossiers(assignee_id, status);
-- The reconciliation page's dossiers: those the portal lags behind.
CREATE INDEX dossiers_unsynced ON dossiers(updated_us) WHERE portal_status <> status;

-- Every change of a dossier, in order: the history the applicant and the
-- auditors see (the audit ledger records the same with proofs).
CREATE TABLE dossier_events (
    id           INTEGER PRIMARY KEY,
    dossier_id   INTEGER NOT NULL REFERENCES dossiers(id),
    action       TEXT NOT NULL,               -- a lifecycle action, or submit, transfer, rate
    from_status  INTEGER NOT NULL,
    to_status    INTEGER NOT NULL,
    actor_kind   TEXT NOT NULL,               -- staff | citizen | system
    actor_id     INTEGER NOT NULL DEFAULT 0,
    actor_name   TEXT NOT NULL DEFAULT '',
    unit_id      INTEGER NOT NULL REFERENCES units(id),
    reason       TEXT NOT NULL DEFAULT '',
    at_us        INTEGER NOT NULL
);
CREATE INDEX dossier_events_dossier ON dossier_events(dossier_id, id);

-- Files of an application or a dossier; the content is in blob storage,
-- sealed by the keyring.
CREATE TABLE dossier_attachments (
    id           INTEGER PRIMARY KEY,
    draft_id     TEXT REFERENCES procedure_drafts(id) ON DELETE CASCADE,
    dossier_id   INTEGER REFERENCES dossiers(id),
    document_key TEXT NOT NULL,
    filename     TEXT NOT NULL,
    media_type   TEXT NOT NULL,               -- application/pdf | image/jpeg | image/png
    size         INTEGER NOT NULL,
    sha256       BLOB NOT NULL,
    blob_key     TEXT NOT NULL UNIQUE,
    created_us   INTEGER NOT NULL
);
CREATE INDEX dossier_attachments_draft ON dossier_attachments(draft_id);
CREATE INDEX dossier_attachments_dossier ON dossier_attachments(dossier_id);

-- The next sequence number of each unit's dossier codes, per day.
CREATE TABLE dossier_sequences (
    agency_code TEXT NOT NULL,
    day         TEXT NOT NULL,                -- yymmdd
    next        INTEGER NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- Payments reported by the payment gateway's signed callbacks; the
-- gateway's transaction id is unique, so a replayed callback is refused.
CREATE TABLE procedure_payments (
    transaction_id TEXT PRIMARY KEY,
    draft_id       TEXT NOT NULL DEFAULT '',
    dossier_code   TEXT NOT NULL DEFAULT '',
    amount         INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    paid_us        INTEGER NOT NULL,
    received_us    INTEGER NOT NULL
);

-- Status reports for the National Public Service Portal, written in the
-- transaction of the change they report and sent through the exchange
-- in order; sent_us stays 0 until the exchange has taken the message.
CREATE TABLE portal_outbox (
    id          INTEGER PRIMARY KEY,
    dossier_id  INTEGER NOT NULL REFERENCES dossiers(id),
    status      INTEGER NOT NULL,
    payload     BLOB NOT NULL,               -- the JSON the portal receives
    created_us  INTEGER NOT NULL,
    sent_us     INTEGER NOT NULL DEFAULT 0,
    message_id  TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX portal_outbox_pending ON portal_outbox(sent_us, id);

-- +goose Down
DROP TABLE portal_outbox;
DROP TABLE procedure_payments;
DROP TABLE dossier_sequences;
DROP TABLE dossier_attachments;
DROP TABLE dossier_events;
DROP TABLE dossiers;
DROP TABLE procedure_drafts;
