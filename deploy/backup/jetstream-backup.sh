#!/usr/bin/env bash
# Snapshots every JetStream stream of headquarters' HQ account (the
# exchange's EXCHANGE stream, the ledger's and the others) with the nats
# CLI (github.com/nats-io/natscli), consumers' positions included.
#   NATS_CONTEXT: a nats context with the HQ account's user and the CA
#   (nats context add hq --server nats://nats-1.internal:4222 --user chancery ...)
#   BACKUP_DIR (default /var/backups/chancery/jetstream), KEEP (default 7).
#
# The streams are not the only copy: the exchange's message log in
# PostgreSQL keeps every message it accepted (sealed) for
# --exchange-retention and redelivers from it, and the ledger's events are
# rows of the database. A snapshot shortens recovery after losing the whole
# cluster; RUNBOOK.md "Restore" says when to restore one.
set -euo pipefail
dir=${BACKUP_DIR:-/var/backups/chancery/jetstream}
keep=${KEEP:-7}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dir"
nats --context "${NATS_CONTEXT:-hq}" account backup --consumers "$dir/$stamp.partial"
mv "$dir/$stamp.partial" "$dir/$stamp"
echo "JetStream snapshot $dir/$stamp"
ls -1d "$dir"/2*Z 2>/dev/null | sort | head -n -"$keep" | while read -r old; do
  rm -rf -- "$old"
done
