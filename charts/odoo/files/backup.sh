#!/bin/sh
# Default backup: a custom-format pg_dump of the tenant's database to the backup volume.
# BACKUP_ID, RELEASE_VERSION and PG* come from the Job; the Job's success is the completion signal.
set -eu
target="/backup/${BACKUP_ID}.dump"
echo "backup: pg_dump ${PGDATABASE} -> ${target} (release ${RELEASE_VERSION})"
pg_dump --format=custom --no-owner --file="${target}.partial" "${PGDATABASE}"
mv "${target}.partial" "${target}"
echo "backup: done ${BACKUP_ID}"
