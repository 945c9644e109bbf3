#!/usr/bin/env bash
# Creates development keys for personal data at rest, with openssl:
#   DIR/data.keys   data keys, one "<key id> <64 hex digits>" a line (here: key 1)
#   DIR/index.key   the national ID blind-index key (64 hex digits)
#
#   deploy/keys.sh DIR            creates the files if missing (mode 0600)
#   deploy/keys.sh DIR --add      appends a new data key (id = highest + 1):
#                                 the first step of a rotation (README)
#
# For development and tests only. In production the keys come from the
# ministry's secret store (or an HSM/KMS export), are written by the
# deployment with mode 0600 for the service user only, and are never kept
# next to the database or in its backups: a backup must be useless without
# them. Losing a data key still in use loses the data it sealed; losing the
# index key loses national ID lookup and uniqueness.
set -euo pipefail

dir=${1:?usage: keys.sh DIR [--add]}
mkdir -p "$dir"
umask 077
command -v openssl >/dev/null || { echo "keys.sh: openssl is required" >&2; exit 1; }

hex() { openssl rand -hex 32; }

if [[ ! -f "$dir/index.key" ]]; then
  hex > "$dir/index.key"
fi
if [[ ! -f "$dir/data.keys" ]]; then
  printf '# socle data keys: <key id> <256-bit key, hex>; the highest id seals new values\n1 %s\n' \
    "$(hex)" > "$dir/data.keys"
elif [[ "${2:-}" == "--add" ]]; then
  last=$(awk '$1 ~ /^[0-9]+$/ { if ($1 > m) m = $1 } END { print m + 0 }' "$dir/data.keys")
  printf '%s %s\n' "$((last + 1))" "$(hex)" >> "$dir/data.keys"
  echo "added data key $((last + 1)) to $dir/data.keys"
fi
chmod 600 "$dir/index.key" "$dir/data.keys"
