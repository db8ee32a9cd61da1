-- +goose Up
-- The architecture repository (internal/architecture): the ministry's
-- ArchiMate model, the national framework's reference content and the
-- components the running node registers itself. Each row holds the
-- concept's current state as JSON (data); arch_changes keeps every state
-- each concept had, who made it and when, so the model can be read as it
-- stood on any date.
CREATE TABLE arch_elements (
    id         TEXT PRIMARY KEY,       -- the exchange format's identifier
    type       TEXT NOT NULL,          -- ArchiMate element type
    name       TEXT NOT NULL,          -- folded names, for search
    origin     TEXT NOT NULL,          -- model | reference | discovered
    owner_unit INTEGER,                -- identity unit, if any
    data       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);
CREATE INDEX arch_elements_type ON arch_elements(type);
CREATE TABLE arch_relationships (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    source     TEXT NOT NULL,          -- an element's or relationship's id
    target     TEXT NOT NULL,
    origin     TEXT NOT NULL,
    data       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);
CREATE INDEX arch_relationships_source ON arch_relationships(source);
CREATE INDEX arch_relationships_target ON arch_relationships(target);
CREATE TABLE arch_views (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    data       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);
-- Which elements each view shows, so an element on a view is not deleted
-- from under it.
CREATE TABLE arch_view_elements (
    view_id    TEXT NOT NULL REFERENCES arch_views(id) ON DELETE CASCADE,
    element_id TEXT NOT NULL,
    PRIMARY KEY (view_id, element_id)
);
CREATE INDEX arch_view_elements_element ON arch_view_elements(element_id);
-- The model's own name, organisations and property definitions (key "model").
CREATE TABLE arch_meta (
    key        TEXT PRIMARY KEY,
    data       TEXT NOT NULL
);
CREATE TABLE arch_changes (
    seq        INTEGER PRIMARY KEY,
    at_us      INTEGER NOT NULL,
    actor      TEXT NOT NULL,          -- who: staff:<id>:<username>, system:<component>
    item_kind  TEXT NOT NULL,          -- element | relationship | view | model
    item_id    TEXT NOT NULL,
    op         TEXT NOT NULL,          -- create | update | delete
    data       TEXT                    -- the state after; NULL after a delete
);
CREATE INDEX arch_changes_item ON arch_changes(item_kind, item_id, seq);
CREATE INDEX arch_changes_at ON arch_changes(at_us);
-- Investment proposals: a model change (new or changed elements and
-- relationships) with what it provides, reviewed against the model as it
-- would be, and decided by an approver with reasons.
CREATE TABLE arch_proposals (
    id         TEXT PRIMARY KEY,
    status     TEXT NOT NULL,          -- proposed | approved | rejected
    data       TEXT NOT NULL,
    created_us INTEGER NOT NULL
);

-- +goose Down
DROP TABLE arch_proposals;
DROP TABLE arch_changes;
DROP TABLE arch_meta;
DROP TABLE arch_view_elements;
DROP TABLE arch_views;
DROP TABLE arch_relationships;
DROP TABLE arch_elements;
