-- +goose Up
-- The data repository (internal/analytics): the catalogue of the
-- ministry's datasets with their quality checks, and the analytics store
-- of daily facts fed from the audit ledger's committed events.
--
-- analytics_facts holds one additive count per day (in the unit's time
-- zone), unit, procedure, country and measure; working_day says whether
-- the day is a working day of the unit's calendar.
CREATE TABLE analytics_facts (
    day            TEXT NOT NULL,               -- YYYY-MM-DD
    unit_id        BIGINT NOT NULL,            -- 0: no unit
    procedure_code TEXT NOT NULL DEFAULT '',
    country        TEXT NOT NULL DEFAULT '',    -- ISO 3166-1 alpha-2 of the unit
    measure        TEXT NOT NULL,               -- analytics.Measure
    working_day    BIGINT NOT NULL,            -- 1 on a working day, else 0
    value          BIGINT NOT NULL,
    PRIMARY KEY (day, unit_id, procedure_code, country, measure)
);
CREATE INDEX analytics_facts_unit ON analytics_facts(unit_id, day);

-- How far the feeder has read a source (the ledger: the next sequence
-- number). It moves in the transaction that adds the facts of what it
-- read, so a fact is counted once whatever restarts or replicas do.
CREATE TABLE analytics_cursor (
    source     TEXT PRIMARY KEY,
    next_seq   BIGINT NOT NULL,
    updated_us BIGINT NOT NULL
);

-- Dossiers counted as overdue (past their deadline unresolved), once each.
CREATE TABLE analytics_overdue (
    dossier_code TEXT PRIMARY KEY,
    day          TEXT NOT NULL
);

-- The catalogue of datasets: Chancery's own (builtin, registered at
-- start) and those an officer registers.
CREATE TABLE analytics_datasets (
    code          TEXT PRIMARY KEY,
    name_vi       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    owner_unit_id BIGINT REFERENCES units(id),  -- NULL: the ministry as a whole
    level         BIGINT NOT NULL DEFAULT 0,    -- authz.Level of the data
    personal_data BIGINT NOT NULL DEFAULT 0,
    source_system TEXT NOT NULL,
    refresh       TEXT NOT NULL,                -- continuous | daily | weekly | monthly | yearly | on_demand
    users         TEXT NOT NULL DEFAULT '',     -- who may use it
    builtin       BIGINT NOT NULL DEFAULT 0,
    source_table  TEXT NOT NULL DEFAULT '',     -- a builtin's table, which its checks read
    time_column   TEXT NOT NULL DEFAULT '',     -- its column of microseconds, for freshness
    refreshed_us  BIGINT NOT NULL DEFAULT 0,    -- an outside dataset's last refresh, as reported
    created_us    BIGINT NOT NULL,
    updated_us    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);

-- A dataset's quality checks and their last result.
CREATE TABLE analytics_checks (
    dataset_code TEXT NOT NULL REFERENCES analytics_datasets(code) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,                 -- min_rows | max_null_rate | max_invalid_rate | max_age_hours
    column_name  TEXT NOT NULL DEFAULT '',
    threshold    DOUBLE PRECISION NOT NULL,
    last_run_us  BIGINT NOT NULL DEFAULT 0,
    last_ok      BIGINT NOT NULL DEFAULT 0,
    last_value   DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_detail  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (dataset_code, name)
);

-- The BI views: the documented, stable surface for BI tools (Superset,
-- Metabase). Column names and meanings are kept; new columns may be
-- added. See internal/analytics/doc.go and README.md.
CREATE VIEW bi_units AS
    SELECT id AS unit_id, code AS unit_code, name_vi AS unit_name_vi, name_en AS unit_name_en,
           kind AS unit_kind, parent_id AS parent_unit_id, country, timezone, status
    FROM units;

CREATE VIEW bi_facts AS
    SELECT f.day, f.working_day, f.unit_id, COALESCE(u.code, '') AS unit_code,
           COALESCE(u.kind, '') AS unit_kind, f.country, f.procedure_code, f.measure, f.value
    FROM analytics_facts f LEFT JOIN units u ON u.id = f.unit_id;

CREATE VIEW bi_daily AS
    SELECT f.day, MAX(f.working_day) AS working_day, f.unit_id, COALESCE(MAX(u.code), '') AS unit_code,
           f.country, f.procedure_code,
           SUM(CASE WHEN f.measure = 'dossiers_received' THEN f.value ELSE 0 END) AS dossiers_received,
           SUM(CASE WHEN f.measure = 'dossiers_resolved' THEN f.value ELSE 0 END) AS dossiers_resolved,
           SUM(CASE WHEN f.measure = 'dossiers_resolved_late' THEN f.value ELSE 0 END) AS dossiers_resolved_late,
           SUM(CASE WHEN f.measure = 'dossiers_overdue' THEN f.value ELSE 0 END) AS dossiers_overdue,
           SUM(CASE WHEN f.measure = 'documents_in' THEN f.value ELSE 0 END) AS documents_in,
           SUM(CASE WHEN f.measure = 'documents_out' THEN f.value ELSE 0 END) AS documents_out,
           SUM(CASE WHEN f.measure = 'exchange_sent' THEN f.value ELSE 0 END) AS exchange_sent,
           SUM(CASE WHEN f.measure = 'exchange_received' THEN f.value ELSE 0 END) AS exchange_received,
           SUM(CASE WHEN f.measure = 'alerts' THEN f.value ELSE 0 END) AS alerts,
           SUM(CASE WHEN f.measure = 'tasks_assigned' THEN f.value ELSE 0 END) AS tasks_assigned,
           SUM(CASE WHEN f.measure = 'tasks_completed' THEN f.value ELSE 0 END) AS tasks_completed,
           SUM(CASE WHEN f.measure = 'reports_submitted' THEN f.value ELSE 0 END) AS reports_submitted
    FROM analytics_facts f LEFT JOIN units u ON u.id = f.unit_id
    GROUP BY f.day, f.unit_id, f.country, f.procedure_code;

CREATE VIEW bi_datasets AS
    SELECT d.code AS dataset_code, d.name_vi, d.name_en, d.description, d.owner_unit_id,
           COALESCE(u.code, '') AS owner_unit_code, d.level AS classification, d.personal_data,
           d.source_system, d.refresh, d.users, d.builtin, d.refreshed_us, d.updated_us
    FROM analytics_datasets d LEFT JOIN units u ON u.id = d.owner_unit_id;

CREATE VIEW bi_dataset_checks AS
    SELECT dataset_code, name AS check_name, kind, column_name, threshold,
           last_run_us, last_ok, last_value, last_detail
    FROM analytics_checks;

-- The read-only role for BI tools: SELECT on the bi_ views and nothing
-- else. It cannot sign in until the operator allows it:
--   ALTER ROLE chancery_bi LOGIN PASSWORD '...';
-- Roles belong to the cluster, so it is made once; a database user
-- without the right to make roles skips it with a notice (the operator
-- then runs these statements as a superuser).
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chancery_bi') THEN
        CREATE ROLE chancery_bi NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO chancery_bi', current_schema());
    GRANT SELECT ON bi_units, bi_facts, bi_daily, bi_datasets, bi_dataset_checks TO chancery_bi;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'chancery: cannot create or grant the role chancery_bi (%); a superuser may do it', SQLERRM;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP VIEW bi_dataset_checks;
DROP VIEW bi_datasets;
DROP VIEW bi_daily;
DROP VIEW bi_facts;
DROP VIEW bi_units;
DROP TABLE analytics_checks;
DROP TABLE analytics_datasets;
DROP TABLE analytics_overdue;
DROP TABLE analytics_cursor;
DROP TABLE analytics_facts;
