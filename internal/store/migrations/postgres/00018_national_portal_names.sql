-- +goose Up
-- "portal" meant five things; the status reports to the government's
-- National Public Service Portal get a name that says so (the citizens'
-- own site is "public": internal/public, web.PublicSite). The rows are
-- kept: the table, its key, sequence and index, and the column are
-- renamed, not copied; dossiers_unsynced follows the column by itself.
ALTER TABLE portal_outbox RENAME TO national_portal_outbox;
ALTER TABLE national_portal_outbox RENAME CONSTRAINT portal_outbox_pkey TO national_portal_outbox_pkey;
ALTER TABLE national_portal_outbox RENAME CONSTRAINT portal_outbox_dossier_id_fkey TO national_portal_outbox_dossier_id_fkey;
ALTER SEQUENCE portal_outbox_id_seq RENAME TO national_portal_outbox_id_seq;
ALTER INDEX portal_outbox_pending RENAME TO national_portal_outbox_pending;
ALTER TABLE dossiers RENAME COLUMN portal_status TO national_portal_status;

-- +goose Down
ALTER TABLE dossiers RENAME COLUMN national_portal_status TO portal_status;
ALTER INDEX national_portal_outbox_pending RENAME TO portal_outbox_pending;
ALTER SEQUENCE national_portal_outbox_id_seq RENAME TO portal_outbox_id_seq;
ALTER TABLE national_portal_outbox RENAME CONSTRAINT national_portal_outbox_dossier_id_fkey TO portal_outbox_dossier_id_fkey;
ALTER TABLE national_portal_outbox RENAME CONSTRAINT national_portal_outbox_pkey TO portal_outbox_pkey;
ALTER TABLE national_portal_outbox RENAME TO portal_outbox;
