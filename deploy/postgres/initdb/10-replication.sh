#!/bin/bash
# Run once by the postgres image when the primary's data directory is new:
# the role the standbys connect as, its pg_hba rule, and the physical slot of
# the first standby (the primary keeps its WAL until the standby has it).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$SOCLE_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SELECT pg_create_physical_replication_slot('replica1');
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
