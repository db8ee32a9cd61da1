-- +goose Up
-- Weekly counts of dossiers per unit and procedure from before Chancery
-- held them (a ministry's statistics from its earlier systems), which
-- forecasting (internal/forecast) reads before the first week of the
-- unit's dossiers in Chancery. Week is the Monday, YYYY-MM-DD, Viet Nam
-- time.
CREATE TABLE forecast_history (
    unit_id        BIGINT NOT NULL REFERENCES units(id),
    procedure_code TEXT NOT NULL,
    week           TEXT NOT NULL,
    dossiers       BIGINT NOT NULL CHECK (dossiers >= 0),
    source         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (unit_id, procedure_code, week)
);

-- +goose Down
DROP TABLE forecast_history;
