-- +goose Up
-- Insight (internal/insight): leadership tasks (nhiệm vụ chỉ đạo) and the
-- periodic reports of Decree 09/2019/NĐ-CP. Tasks, rounds and submissions
-- carry a uid made where they were made, so the copies that travel
-- between headquarters and missions through the exchange are one item,
-- and an update or submission delivered twice is taken in once.
CREATE TABLE insight_tasks (
    id           INTEGER PRIMARY KEY,
    uid          TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL,              -- meeting | document | direct
    source_ref   TEXT NOT NULL DEFAULT '',   -- the meeting, or the document's number
    document_id  INTEGER NOT NULL DEFAULT 0, -- the Records document on this node, 0 if none
    level        INTEGER NOT NULL DEFAULT 0,
    lead_unit    INTEGER NOT NULL REFERENCES units(id),
    assigned_by  TEXT NOT NULL,              -- the leader's name (they may be on another node)
    assigner_id  INTEGER NOT NULL DEFAULT 0, -- their staff id on the node that assigned it
    status       TEXT NOT NULL,              -- open | in_progress | done
    progress     INTEGER NOT NULL DEFAULT 0, -- percent
    due_us       INTEGER NOT NULL,
    escalated_us INTEGER NOT NULL DEFAULT 0, -- when it was escalated as overdue; 0 if never
    done_us      INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1,
    created_us   INTEGER NOT NULL,
    updated_us   INTEGER NOT NULL
);
CREATE INDEX insight_tasks_due ON insight_tasks(status, due_us);

-- The units a task is for: its lead unit and the supporting ones.
CREATE TABLE insight_task_units (
    task_id INTEGER NOT NULL REFERENCES insight_tasks(id) ON DELETE CASCADE,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    lead    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, unit_id)
);
CREATE INDEX insight_task_units_unit ON insight_task_units(unit_id, task_id);

-- A task's history: progress, completion with evidence, escalation.
CREATE TABLE insight_task_updates (
    id          INTEGER PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    task_id     INTEGER NOT NULL REFERENCES insight_tasks(id) ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    kind        TEXT NOT NULL,            -- progress | complete | escalate
    author      TEXT NOT NULL,
    progress    INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    evidence    TEXT NOT NULL DEFAULT '', -- a Records document's number
    file_name   TEXT NOT NULL DEFAULT '',
    file_data   BLOB,
    at_us       INTEGER NOT NULL
);
CREATE INDEX insight_task_updates_task ON insight_task_updates(task_id, id);

-- Report templates: typed indicators, a period, who receives.
CREATE TABLE insight_templates (
    id          INTEGER PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    code        TEXT NOT NULL UNIQUE,
    name_vi     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    period      TEXT NOT NULL,          -- monthly | quarterly | half_yearly | yearly | ad_hoc
    owner_unit  INTEGER NOT NULL REFERENCES units(id),
    indicators  TEXT NOT NULL,          -- JSON: the typed indicators
    created_us  INTEGER NOT NULL
);

-- Collection rounds: a template, a period, the units asked, a due date.
CREATE TABLE insight_rounds (
    id           INTEGER PRIMARY KEY,
    uid          TEXT NOT NULL UNIQUE,
    template_id  INTEGER NOT NULL REFERENCES insight_templates(id),
    label        TEXT NOT NULL,          -- the period: 2026-Q3
    period_from  TEXT NOT NULL,          -- the data's closing dates, YYYY-MM-DD
    period_to    TEXT NOT NULL,
    due_us       INTEGER NOT NULL,
    owner_unit   INTEGER NOT NULL REFERENCES units(id),
    created_us   INTEGER NOT NULL
);
CREATE TABLE insight_round_units (
    round_id INTEGER NOT NULL REFERENCES insight_rounds(id) ON DELETE CASCADE,
    unit_id  INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (round_id, unit_id)
);
CREATE INDEX insight_round_units_unit ON insight_round_units(unit_id, round_id);

-- A unit's report in a round.
CREATE TABLE insight_submissions (
    id           INTEGER PRIMARY KEY,
    round_id     INTEGER NOT NULL REFERENCES insight_rounds(id) ON DELETE CASCADE,
    unit_id      INTEGER NOT NULL REFERENCES units(id),
    uid          TEXT NOT NULL UNIQUE,   -- the filing's uid: a copy delivered again is the same
    status       TEXT NOT NULL,          -- submitted | returned | approved
    value_json   TEXT NOT NULL,          -- JSON: indicator code → value as written
    submitted_by TEXT NOT NULL,
    submitted_us INTEGER NOT NULL,
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_us   INTEGER NOT NULL DEFAULT 0,
    reason       TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (round_id, unit_id)
);

-- What waits for the exchange: tasks and rounds for missions, updates
-- and submissions for headquarters, decisions back to missions.
CREATE TABLE insight_outbox (
    id         INTEGER PRIMARY KEY,
    recipient  TEXT NOT NULL,           -- the exchange member (the unit's code)
    sender     TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_us INTEGER NOT NULL,
    sent_us    INTEGER NOT NULL DEFAULT 0,
    message_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX insight_outbox_waiting ON insight_outbox(sent_us, id);

-- +goose Down
DROP TABLE insight_outbox;
DROP TABLE insight_submissions;
DROP TABLE insight_round_units;
DROP TABLE insight_rounds;
DROP TABLE insight_templates;
DROP TABLE insight_task_updates;
DROP TABLE insight_task_units;
DROP TABLE insight_tasks;
