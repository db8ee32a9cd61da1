-- +goose Up
-- The summaries' rows have a slot: on PostgreSQL a dossier or document
-- counts in the slot of its id modulo 16, so that writers to one unit and
-- week rarely wait for each other's row lock; on SQLite, which has one
-- writer at a time, every count is in slot 0. Readers sum the slots.
--
-- Derived: every table of this migration is computed from rows of other
-- tables, kept current by triggers in the transaction that changes those
-- rows, and backfilled below from what they already hold.
--
-- The operations view (internal/insight/operations) reads these summaries
-- instead of scanning a million dossiers and the documents per request.
-- Days and weeks are counted in the ministry's zone, Asia/Ho_Chi_Minh,
-- UTC+7 without summer time (web.MinistryZone): day = (t_us + 7 h) / 1 day
-- and week = (day + 3) / 7, weeks starting on Mondays as the view's do.
-- The view reads one row per unit and week of its quarter.

-- analytics_dossier_weeks: per week of submission and unit, the sums of
-- Decision 766 that procedures.IndexCounts holds (the same conditions as
-- procedures' indexAggregates; TestFactsMatchTheTables pins them).
CREATE TABLE analytics_dossier_weeks (
    week               BIGINT NOT NULL,  -- weeks from Monday 1969-12-29 in the ministry's zone
    unit_id            BIGINT NOT NULL,
    slot               BIGINT NOT NULL DEFAULT 0, -- a share of the counts: readers sum the slots
    submitted          BIGINT NOT NULL DEFAULT 0,
    online             BIGINT NOT NULL DEFAULT 0,
    synced             BIGINT NOT NULL DEFAULT 0,
    prefilled          BIGINT NOT NULL DEFAULT 0,
    received           BIGINT NOT NULL DEFAULT 0,
    digitised          BIGINT NOT NULL DEFAULT 0,
    finished           BIGINT NOT NULL DEFAULT 0,
    on_time            BIGINT NOT NULL DEFAULT 0,
    electronic_results BIGINT NOT NULL DEFAULT 0,
    processing_us      BIGINT NOT NULL DEFAULT 0,
    paid               BIGINT NOT NULL DEFAULT 0,
    paid_online        BIGINT NOT NULL DEFAULT 0,
    rated              BIGINT NOT NULL DEFAULT 0,
    rating_sum         BIGINT NOT NULL DEFAULT 0,
    satisfied          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (week, unit_id, slot)
);

-- analytics_dossier_due: the dossiers open and not decided, per day of
-- their deadline and unit (rows that fall to zero are deleted), so that
-- the overdue at any instant is the sum of the days before today plus
-- today's, counted from dossiers_open.
CREATE TABLE analytics_dossier_due (
    day     BIGINT NOT NULL,  -- the deadline's day: days since 1970-01-01 in the ministry's zone
    unit_id BIGINT NOT NULL,
    slot    BIGINT NOT NULL DEFAULT 0, -- as analytics_dossier_weeks.slot
    open    BIGINT NOT NULL,
    PRIMARY KEY (unit_id, day, slot)  -- in unit order: the view sums each unit's days
);

-- analytics_document_weeks: Records' documents per week of creation,
-- unit and classification level.
CREATE TABLE analytics_document_weeks (
    week    BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    level   BIGINT NOT NULL,
    slot    BIGINT NOT NULL DEFAULT 0, -- as analytics_dossier_weeks.slot
    n       BIGINT NOT NULL,
    PRIMARY KEY (week, unit_id, level, slot)
);

-- analytics_alert_levels: Sentinel's open alerts (new or under
-- investigation) per unit and level.
CREATE TABLE analytics_alert_levels (
    unit_id BIGINT NOT NULL,
    level   BIGINT NOT NULL,
    open    BIGINT NOT NULL,
    PRIMARY KEY (unit_id, level)
);

-- The backfill: what the tables already hold.
INSERT INTO analytics_dossier_weeks (week, unit_id, slot, submitted, online, synced, prefilled, received, digitised, finished, on_time, electronic_results, processing_us, paid, paid_online, rated, rating_sum, satisfied)
SELECT ((d.submitted_us + 25200000000) / 86400000000 + 3) / 7, d.unit_id, d.id % 16,
    SUM(1),
    SUM(CASE WHEN d.channel = 2 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.national_portal_status = d.status THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.prefilled <> 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.received_us > 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.received_us > 0 AND d.digitised <> 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.received_us > 0 AND d.finished_us > 0 AND d.status IN (9, 10) THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.received_us > 0 AND d.finished_us > 0 AND d.status IN (9, 10) AND d.late = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.received_us > 0 AND d.finished_us > 0 AND d.status IN (9, 10) AND d.result_blob <> '' THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.received_us > 0 AND d.finished_us > 0 AND d.status IN (9, 10) THEN d.finished_us - d.received_us ELSE 0 END),
    SUM(CASE WHEN d.fee_amount > 0 AND d.paid <> 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.fee_amount > 0 AND d.paid <> 0 AND d.paid_online <> 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.rating BETWEEN 1 AND 5 THEN 1 ELSE 0 END),
    SUM(CASE WHEN d.rating BETWEEN 1 AND 5 THEN d.rating ELSE 0 END),
    SUM(CASE WHEN d.rating BETWEEN 4 AND 5 THEN 1 ELSE 0 END)
FROM dossiers d GROUP BY ((d.submitted_us + 25200000000) / 86400000000 + 3) / 7, d.unit_id, d.id % 16;
INSERT INTO analytics_dossier_due (day, unit_id, slot, open)
SELECT (d.due_us + 25200000000) / 86400000000, d.unit_id, d.id % 16, COUNT(*) FROM dossiers d WHERE d.open = 1 AND d.due_us > 0 AND d.finished_us = 0 GROUP BY (d.due_us + 25200000000) / 86400000000, d.unit_id, d.id % 16;
INSERT INTO analytics_document_weeks (week, unit_id, level, slot, n)
SELECT ((d.created_us + 25200000000) / 86400000000 + 3) / 7, d.unit_id, d.level, d.id % 16, COUNT(*) FROM record_documents d GROUP BY ((d.created_us + 25200000000) / 86400000000 + 3) / 7, d.unit_id, d.level, d.id % 16;
INSERT INTO analytics_alert_levels (unit_id, level, open)
SELECT a.unit_id, a.level, COUNT(*) FROM sentinel_alerts a WHERE a.status IN ('new', 'investigating') AND a.unit_id <> 0 GROUP BY a.unit_id, a.level;

-- +goose StatementBegin
CREATE FUNCTION analytics_dossiers_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO analytics_dossier_weeks (week, unit_id, slot, submitted, online, synced, prefilled, received, digitised, finished, on_time, electronic_results, processing_us, paid, paid_online, rated, rating_sum, satisfied)
        VALUES (((OLD.submitted_us + 25200000000) / 86400000000 + 3) / 7, OLD.unit_id, OLD.id % 16,
            -1,
            CASE WHEN OLD.channel = 2 THEN -1 ELSE 0 END,
            CASE WHEN OLD.national_portal_status = OLD.status THEN -1 ELSE 0 END,
            CASE WHEN OLD.prefilled <> 0 THEN -1 ELSE 0 END,
            CASE WHEN OLD.received_us > 0 THEN -1 ELSE 0 END,
            CASE WHEN OLD.received_us > 0 AND OLD.digitised <> 0 THEN -1 ELSE 0 END,
            CASE WHEN OLD.received_us > 0 AND OLD.finished_us > 0 AND OLD.status IN (9, 10) THEN -1 ELSE 0 END,
            CASE WHEN OLD.received_us > 0 AND OLD.finished_us > 0 AND OLD.status IN (9, 10) AND OLD.late = 0 THEN -1 ELSE 0 END,
            CASE WHEN OLD.received_us > 0 AND OLD.finished_us > 0 AND OLD.status IN (9, 10) AND OLD.result_blob <> '' THEN -1 ELSE 0 END,
            CASE WHEN OLD.received_us > 0 AND OLD.finished_us > 0 AND OLD.status IN (9, 10) THEN -(OLD.finished_us - OLD.received_us) ELSE 0 END,
            CASE WHEN OLD.fee_amount > 0 AND OLD.paid <> 0 THEN -1 ELSE 0 END,
            CASE WHEN OLD.fee_amount > 0 AND OLD.paid <> 0 AND OLD.paid_online <> 0 THEN -1 ELSE 0 END,
            CASE WHEN OLD.rating BETWEEN 1 AND 5 THEN -1 ELSE 0 END,
            CASE WHEN OLD.rating BETWEEN 1 AND 5 THEN -(OLD.rating) ELSE 0 END,
            CASE WHEN OLD.rating BETWEEN 4 AND 5 THEN -1 ELSE 0 END)
        ON CONFLICT (week, unit_id, slot) DO UPDATE SET
            submitted = analytics_dossier_weeks.submitted + excluded.submitted,
            online = analytics_dossier_weeks.online + excluded.online,
            synced = analytics_dossier_weeks.synced + excluded.synced,
            prefilled = analytics_dossier_weeks.prefilled + excluded.prefilled,
            received = analytics_dossier_weeks.received + excluded.received,
            digitised = analytics_dossier_weeks.digitised + excluded.digitised,
            finished = analytics_dossier_weeks.finished + excluded.finished,
            on_time = analytics_dossier_weeks.on_time + excluded.on_time,
            electronic_results = analytics_dossier_weeks.electronic_results + excluded.electronic_results,
            processing_us = analytics_dossier_weeks.processing_us + excluded.processing_us,
            paid = analytics_dossier_weeks.paid + excluded.paid,
            paid_online = analytics_dossier_weeks.paid_online + excluded.paid_online,
            rated = analytics_dossier_weeks.rated + excluded.rated,
            rating_sum = analytics_dossier_weeks.rating_sum + excluded.rating_sum,
            satisfied = analytics_dossier_weeks.satisfied + excluded.satisfied;
        IF OLD.open = 1 AND OLD.due_us > 0 AND OLD.finished_us = 0 THEN
            UPDATE analytics_dossier_due SET open = open - 1 WHERE unit_id = OLD.unit_id AND day = (OLD.due_us + 25200000000) / 86400000000 AND slot = OLD.id % 16;
            DELETE FROM analytics_dossier_due WHERE unit_id = OLD.unit_id AND day = (OLD.due_us + 25200000000) / 86400000000 AND slot = OLD.id % 16 AND open = 0;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO analytics_dossier_weeks (week, unit_id, slot, submitted, online, synced, prefilled, received, digitised, finished, on_time, electronic_results, processing_us, paid, paid_online, rated, rating_sum, satisfied)
        VALUES (((NEW.submitted_us + 25200000000) / 86400000000 + 3) / 7, NEW.unit_id, NEW.id % 16,
            1,
            CASE WHEN NEW.channel = 2 THEN 1 ELSE 0 END,
            CASE WHEN NEW.national_portal_status = NEW.status THEN 1 ELSE 0 END,
            CASE WHEN NEW.prefilled <> 0 THEN 1 ELSE 0 END,
            CASE WHEN NEW.received_us > 0 THEN 1 ELSE 0 END,
            CASE WHEN NEW.received_us > 0 AND NEW.digitised <> 0 THEN 1 ELSE 0 END,
            CASE WHEN NEW.received_us > 0 AND NEW.finished_us > 0 AND NEW.status IN (9, 10) THEN 1 ELSE 0 END,
            CASE WHEN NEW.received_us > 0 AND NEW.finished_us > 0 AND NEW.status IN (9, 10) AND NEW.late = 0 THEN 1 ELSE 0 END,
            CASE WHEN NEW.received_us > 0 AND NEW.finished_us > 0 AND NEW.status IN (9, 10) AND NEW.result_blob <> '' THEN 1 ELSE 0 END,
            CASE WHEN NEW.received_us > 0 AND NEW.finished_us > 0 AND NEW.status IN (9, 10) THEN NEW.finished_us - NEW.received_us ELSE 0 END,
            CASE WHEN NEW.fee_amount > 0 AND NEW.paid <> 0 THEN 1 ELSE 0 END,
            CASE WHEN NEW.fee_amount > 0 AND NEW.paid <> 0 AND NEW.paid_online <> 0 THEN 1 ELSE 0 END,
            CASE WHEN NEW.rating BETWEEN 1 AND 5 THEN 1 ELSE 0 END,
            CASE WHEN NEW.rating BETWEEN 1 AND 5 THEN NEW.rating ELSE 0 END,
            CASE WHEN NEW.rating BETWEEN 4 AND 5 THEN 1 ELSE 0 END)
        ON CONFLICT (week, unit_id, slot) DO UPDATE SET
            submitted = analytics_dossier_weeks.submitted + excluded.submitted,
            online = analytics_dossier_weeks.online + excluded.online,
            synced = analytics_dossier_weeks.synced + excluded.synced,
            prefilled = analytics_dossier_weeks.prefilled + excluded.prefilled,
            received = analytics_dossier_weeks.received + excluded.received,
            digitised = analytics_dossier_weeks.digitised + excluded.digitised,
            finished = analytics_dossier_weeks.finished + excluded.finished,
            on_time = analytics_dossier_weeks.on_time + excluded.on_time,
            electronic_results = analytics_dossier_weeks.electronic_results + excluded.electronic_results,
            processing_us = analytics_dossier_weeks.processing_us + excluded.processing_us,
            paid = analytics_dossier_weeks.paid + excluded.paid,
            paid_online = analytics_dossier_weeks.paid_online + excluded.paid_online,
            rated = analytics_dossier_weeks.rated + excluded.rated,
            rating_sum = analytics_dossier_weeks.rating_sum + excluded.rating_sum,
            satisfied = analytics_dossier_weeks.satisfied + excluded.satisfied;
        IF NEW.open = 1 AND NEW.due_us > 0 AND NEW.finished_us = 0 THEN
            INSERT INTO analytics_dossier_due (day, unit_id, slot, open) VALUES ((NEW.due_us + 25200000000) / 86400000000, NEW.unit_id, NEW.id % 16, 1)
            ON CONFLICT (unit_id, day, slot) DO UPDATE SET open = analytics_dossier_due.open + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER analytics_dossiers_insert_delete AFTER INSERT OR DELETE ON dossiers
    FOR EACH ROW EXECUTE FUNCTION analytics_dossiers_count();
CREATE TRIGGER analytics_dossiers_update AFTER UPDATE OF unit_id, submitted_us, channel, status, national_portal_status, prefilled, received_us, digitised, finished_us, late, result_blob, fee_amount, paid, paid_online, rating, open, due_us ON dossiers
    FOR EACH ROW WHEN (OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.submitted_us IS DISTINCT FROM NEW.submitted_us OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.status IS DISTINCT FROM NEW.status OR OLD.national_portal_status IS DISTINCT FROM NEW.national_portal_status OR OLD.prefilled IS DISTINCT FROM NEW.prefilled OR OLD.received_us IS DISTINCT FROM NEW.received_us OR OLD.digitised IS DISTINCT FROM NEW.digitised OR OLD.finished_us IS DISTINCT FROM NEW.finished_us OR OLD.late IS DISTINCT FROM NEW.late OR OLD.result_blob IS DISTINCT FROM NEW.result_blob OR OLD.fee_amount IS DISTINCT FROM NEW.fee_amount OR OLD.paid IS DISTINCT FROM NEW.paid OR OLD.paid_online IS DISTINCT FROM NEW.paid_online OR OLD.rating IS DISTINCT FROM NEW.rating OR OLD.open IS DISTINCT FROM NEW.open OR OLD.due_us IS DISTINCT FROM NEW.due_us)
    EXECUTE FUNCTION analytics_dossiers_count();
-- +goose StatementBegin
CREATE FUNCTION analytics_documents_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO analytics_document_weeks (week, unit_id, level, slot, n) VALUES (((OLD.created_us + 25200000000) / 86400000000 + 3) / 7, OLD.unit_id, OLD.level, OLD.id % 16, -1)
        ON CONFLICT (week, unit_id, level, slot) DO UPDATE SET n = analytics_document_weeks.n + excluded.n;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO analytics_document_weeks (week, unit_id, level, slot, n) VALUES (((NEW.created_us + 25200000000) / 86400000000 + 3) / 7, NEW.unit_id, NEW.level, NEW.id % 16, 1)
        ON CONFLICT (week, unit_id, level, slot) DO UPDATE SET n = analytics_document_weeks.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER analytics_documents_insert_delete AFTER INSERT OR DELETE ON record_documents
    FOR EACH ROW EXECUTE FUNCTION analytics_documents_count();
CREATE TRIGGER analytics_documents_update AFTER UPDATE OF unit_id, level, created_us ON record_documents
    FOR EACH ROW WHEN (OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.level IS DISTINCT FROM NEW.level OR OLD.created_us IS DISTINCT FROM NEW.created_us)
    EXECUTE FUNCTION analytics_documents_count();
-- +goose StatementBegin
CREATE FUNCTION analytics_alerts_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status IN ('new', 'investigating') AND OLD.unit_id <> 0 THEN
        UPDATE analytics_alert_levels SET open = open - 1 WHERE unit_id = OLD.unit_id AND level = OLD.level;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status IN ('new', 'investigating') AND NEW.unit_id <> 0 THEN
        INSERT INTO analytics_alert_levels (unit_id, level, open) VALUES (NEW.unit_id, NEW.level, 1)
        ON CONFLICT (unit_id, level) DO UPDATE SET open = analytics_alert_levels.open + 1;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER analytics_alerts_insert_delete AFTER INSERT OR DELETE ON sentinel_alerts
    FOR EACH ROW EXECUTE FUNCTION analytics_alerts_count();
CREATE TRIGGER analytics_alerts_update AFTER UPDATE OF unit_id, level, status ON sentinel_alerts
    FOR EACH ROW WHEN (OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.level IS DISTINCT FROM NEW.level OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION analytics_alerts_count();

-- +goose Down
DROP TRIGGER analytics_alerts_update ON sentinel_alerts;
DROP TRIGGER analytics_alerts_insert_delete ON sentinel_alerts;
DROP TRIGGER analytics_documents_update ON record_documents;
DROP TRIGGER analytics_documents_insert_delete ON record_documents;
DROP TRIGGER analytics_dossiers_update ON dossiers;
DROP TRIGGER analytics_dossiers_insert_delete ON dossiers;
DROP FUNCTION analytics_alerts_count();
DROP FUNCTION analytics_documents_count();
DROP FUNCTION analytics_dossiers_count();
DROP TABLE analytics_alert_levels;
DROP TABLE analytics_document_weeks;
DROP TABLE analytics_dossier_due;
DROP TABLE analytics_dossier_weeks;
