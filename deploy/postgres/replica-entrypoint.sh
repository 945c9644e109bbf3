#!/bin/bash
# A streaming standby: on first start, copies the primary with pg_basebackup
# (-R writes primary_conninfo and standby.signal), then runs as a hot standby.
# Environment: PRIMARY_HOST, REPLICATION_SLOT, PGPASSWORD (of replicator).
set -euo pipefail
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U replicator -d postgres >/dev/null 2>&1; do
    sleep 1
  done
  rm -rf "${PGDATA:?}"/*
  pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" \
    --wal-method=stream --slot="$REPLICATION_SLOT" --write-recovery-conf \
    --checkpoint=fast --progress
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on
