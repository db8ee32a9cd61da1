-- Roles of Chancery's PostgreSQL database. Run once as a superuser, in the
-- database Chancery will use (created with: createdb --owner postgres chancery):
--
--   psql -v ON_ERROR_STOP=1 -d chancery -f roles.sql
--   psql -d chancery -c '\password chancery_owner' -c '\password chancery_app'
--
-- chancery_owner owns the schema and runs the migrations
--   (chancery migrate --db postgres://chancery_owner@…, RUNBOOK.md "Upgrade").
-- replicator takes base backups and feeds the standby.
-- chancery_app is what the replicas connect as (CHANCERY_DB): it reads and
--   writes rows, and can change no table. A replica of a newer release
--   therefore cannot migrate on its own: it stops with the migration's
--   "permission denied" until chancery migrate has run, so an upgrade
--   changes the schema once, at a time the operator chose.
-- deploy/deploy_test.go runs this file on a throwaway cluster, migrates as
-- chancery_owner and checks what chancery_app may and may not do.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chancery_owner') THEN
    CREATE ROLE chancery_owner LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chancery_app') THEN
    -- 3 replicas × 32 pooled connections (internal/store), a migration, a
    -- doctor, the operators' psql.
    CREATE ROLE chancery_app LOGIN CONNECTION LIMIT 120;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') THEN
    -- pg_basebackup (backup/pg-base-backup.sh) and the streaming standby.
    CREATE ROLE replicator LOGIN REPLICATION;
  END IF;
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO chancery_owner, chancery_app', current_database());
  -- Statements that hang hold the pool: bound them for the application.
  EXECUTE format('ALTER ROLE chancery_app IN DATABASE %I SET statement_timeout = %L', current_database(), '60s');
  EXECUTE format('ALTER ROLE chancery_app IN DATABASE %I SET idle_in_transaction_session_timeout = %L', current_database(), '60s');
END
$$;

ALTER SCHEMA public OWNER TO chancery_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO chancery_app;

-- What the owner creates (every migration), the application may use.
ALTER DEFAULT PRIVILEGES FOR ROLE chancery_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO chancery_app;
ALTER DEFAULT PRIVILEGES FOR ROLE chancery_owner IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO chancery_app;
-- And what exists already (running this file again after migrations).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO chancery_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO chancery_app;
