#!/usr/bin/env bash
# Restores headquarters' PostgreSQL from a base backup and the WAL archive,
# to the end of the archive or to a moment (RUNBOOK.md "Restore"):
#   pg-restore.sh /var/backups/chancery/base/20261206T020000Z ["2026-12-06 14:30:00+00"]
# Run as postgres on the database host with PostgreSQL stopped, and every
# chancery replica stopped (systemctl stop chancery-hq on each).
#   PGDATA (default /var/lib/postgresql/15/main), WAL_ARCHIVE.
set -euo pipefail
base=${1:?usage: pg-restore.sh BASE_BACKUP_DIR [TARGET_TIME]}
target=${2:-}
pgdata=${PGDATA:-/var/lib/postgresql/15/main}
archive=${WAL_ARCHIVE:-/var/backups/chancery/wal}
if pg_ctlcluster 15 main status >/dev/null 2>&1; then
  echo "pg-restore: PostgreSQL is running; stop it first (systemctl stop postgresql)" >&2
  exit 1
fi
pg_verifybackup "$base"
# Keep the damaged cluster aside rather than delete it.
aside=$pgdata.before-restore.$(date -u +%Y%m%dT%H%M%SZ)
mv "$pgdata" "$aside"
cp -a "$base" "$pgdata"
rm -f "$pgdata/backup_manifest"
chmod 700 "$pgdata"
{
  echo "restore_command = 'cp $archive/%f %p'"
  if [ -n "$target" ]; then
    echo "recovery_target_time = '$target'"
    echo "recovery_target_action = 'promote'"
  fi
} >> "$pgdata/postgresql.auto.conf"
touch "$pgdata/recovery.signal"
echo "restored $base into $pgdata (the old cluster is in $aside)."
echo "Start PostgreSQL; it replays the archive${target:+ up to $target} and opens for writes."
echo "Then: chancery doctor, chancery audit verify, and start the replicas."
