#!/usr/bin/env bash
# Copies the object store (documents' and dossiers' files, the ledger's
# archived events) to a second bucket in another site. The sync only adds
# and replaces (no --delete), so an object deleted or damaged at the source
# stays in the backup; keep versioning on in the target bucket so that an
# overwritten object's earlier version stays too. Restore a PostgreSQL
# backup and the objects of the same night together: the database names the
# objects it needs.
#   SOURCE (default s3://chancery-objects), TARGET (default
#   s3://chancery-objects-backup), S3_ENDPOINT, TARGET_ENDPOINT; the AWS CLI
#   reads the keys from its usual environment or profile.
set -euo pipefail
src=${SOURCE:-s3://chancery-objects}
dst=${TARGET:-s3://chancery-objects-backup}
aws s3 sync ${S3_ENDPOINT:+--endpoint-url "$S3_ENDPOINT"} "$src" "/var/backups/chancery/objects" --only-show-errors
aws s3 sync ${TARGET_ENDPOINT:+--endpoint-url "$TARGET_ENDPOINT"} "/var/backups/chancery/objects" "$dst" --only-show-errors
echo "objects copied from $src to $dst"
