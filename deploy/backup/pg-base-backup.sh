#!/usr/bin/env bash
# A base backup of headquarters' PostgreSQL: with the WAL archive
# (pg-archive-wal.sh) it restores the database to any moment since
# (pg-restore.sh). Run nightly (systemd timer chancery-backup.timer) as a
# user whose ~/.pgpass holds the replicator role's password.
#   PGHOST (default db.internal), BACKUP_DIR (default
#   /var/backups/chancery/base), KEEP (base backups kept, default 7).
set -euo pipefail
host=${PGHOST:-db.internal}
dir=${BACKUP_DIR:-/var/backups/chancery/base}
keep=${KEEP:-7}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target=$dir/$stamp
mkdir -p "$dir"
# Plain format so that pg_verifybackup can check every file against the
# manifest; fast checkpoint; the WAL needed to make it consistent streamed
# in.
pg_basebackup --host "$host" --username replicator --pgdata "$target.partial" \
  --format plain --wal-method stream --checkpoint fast --manifest-checksums SHA256 --no-password
pg_verifybackup "$target.partial"
mv "$target.partial" "$target"
echo "base backup $target verified"
# Keep the newest $keep; the WAL older than the oldest kept one may go
# (pg_archivecleanup with that backup's first segment, from backup_label).
ls -1d "$dir"/2*Z 2>/dev/null | sort | head -n -"$keep" | while read -r old; do
  rm -rf -- "$old"
done
oldest=$(ls -1d "$dir"/2*Z | sort | head -n 1)
first=$(sed -n 's/^START WAL LOCATION: .* (file \(.*\))$/\1/p' "$oldest/backup_label")
if [ -n "$first" ] && [ -d "${WAL_ARCHIVE:-/var/backups/chancery/wal}" ]; then
  pg_archivecleanup "${WAL_ARCHIVE:-/var/backups/chancery/wal}" "$first"
fi
