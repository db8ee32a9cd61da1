-- +goose Up
-- "portal" meant five things; the status reports to the government's
-- National Public Service Portal get a name that says so (the citizens'
-- own site is "public": internal/public, web.PublicSite). The rows are
-- kept: the table and the column are renamed, not copied. SQLite cannot
-- rename an index, so the outbox's index is made again under its new
-- name; RENAME COLUMN rewrites dossiers_unsynced's WHERE clause itself.
ALTER TABLE portal_outbox RENAME TO national_portal_outbox;
DROP INDEX portal_outbox_pending;
CREATE INDEX national_portal_outbox_pending ON national_portal_outbox(sent_us, id);
ALTER TABLE dossiers RENAME COLUMN portal_status TO national_portal_status;

-- +goose Down
ALTER TABLE dossiers RENAME COLUMN national_portal_status TO portal_status;
DROP INDEX national_portal_outbox_pending;
ALTER TABLE national_portal_outbox RENAME TO portal_outbox;
CREATE INDEX portal_outbox_pending ON portal_outbox(sent_us, id);
