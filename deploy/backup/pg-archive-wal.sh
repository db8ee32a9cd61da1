#!/usr/bin/env bash
# PostgreSQL's archive_command (postgres/postgresql.conf):
#   archive_command = '/usr/local/lib/chancery/pg-archive-wal.sh %p %f'
# Copies one finished WAL segment to the archive, durably, and never over a
# different file of the same name (PostgreSQL retries on a non-zero exit, so
# a failed copy is tried again rather than lost). The archive is a directory
# on another machine's storage (NFS, or a mounted bucket), ideally in
# another building: WAL_ARCHIVE, default /var/backups/chancery/wal.
set -euo pipefail
src=${1:?usage: pg-archive-wal.sh %p %f}
name=${2:?usage: pg-archive-wal.sh %p %f}
archive=${WAL_ARCHIVE:-/var/backups/chancery/wal}
dest=$archive/$name
if [ -e "$dest" ]; then
  # Archived before (a retry after a crash): fine if identical.
  cmp -s "$src" "$dest" && exit 0
  echo "pg-archive-wal: $dest exists with other contents; refusing to overwrite (two clusters archiving to one place?)" >&2
  exit 1
fi
tmp=$(mktemp "$archive/.$name.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cp "$src" "$tmp"
sync "$tmp"
mv "$tmp" "$dest"
sync "$archive"
trap - EXIT
