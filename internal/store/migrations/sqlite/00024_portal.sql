-- +goose Up
-- The public portal's foreign information (internal/portal): news, press
-- releases, the spokesperson's statements and travel advisories, each in
-- Vietnamese and English, drafted by the press department and published
-- only after the spokesperson's approval; and the missions' public pages.
CREATE TABLE portal_items (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,          -- news | press_release | statement | advisory
    slug         TEXT NOT NULL UNIQUE,   -- the public address: /news/{slug}
    status       TEXT NOT NULL,          -- draft | submitted | approved | published | withdrawn
    title_vi     TEXT NOT NULL,
    title_en     TEXT NOT NULL,
    summary_vi   TEXT NOT NULL DEFAULT '',
    summary_en   TEXT NOT NULL DEFAULT '',
    body_vi      TEXT NOT NULL,
    body_en      TEXT NOT NULL,
    country      TEXT NOT NULL DEFAULT '', -- an advisory's country (ISO 3166-1 alpha-2)
    level        INTEGER NOT NULL DEFAULT 0, -- an advisory's level, 1 to 4
    search       TEXT NOT NULL,          -- titles, summaries and bodies folded for search
    author_id    INTEGER NOT NULL REFERENCES staff(id),
    decided_by   INTEGER REFERENCES staff(id),
    note         TEXT NOT NULL DEFAULT '', -- the spokesperson's reason for the last rejection
    version      INTEGER NOT NULL DEFAULT 1,
    created_us   INTEGER NOT NULL,
    updated_us   INTEGER NOT NULL,
    published_us INTEGER NOT NULL DEFAULT 0 -- the first publication; 0 while never published
);
CREATE INDEX portal_items_public ON portal_items(status, kind, published_us);

CREATE TABLE portal_item_tags (
    item_id INTEGER NOT NULL REFERENCES portal_items(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL, -- folded: the address /news/tags/{tag}
    label   TEXT NOT NULL, -- as the press officer wrote it
    PRIMARY KEY (item_id, tag)
);
CREATE INDEX portal_item_tags_tag ON portal_item_tags(tag, item_id);

-- A mission's public page: what the directory's unit does not hold.
CREATE TABLE portal_missions (
    unit_id       INTEGER PRIMARY KEY REFERENCES units(id),
    ambassador_vi TEXT NOT NULL DEFAULT '',
    ambassador_en TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    hours_vi      TEXT NOT NULL DEFAULT '',
    hours_en      TEXT NOT NULL DEFAULT '',
    hotline       TEXT NOT NULL DEFAULT '', -- citizen protection, around the clock
    version       INTEGER NOT NULL DEFAULT 1,
    updated_us    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE portal_missions;
DROP TABLE portal_item_tags;
DROP TABLE portal_items;
