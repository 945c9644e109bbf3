#!/usr/bin/env bash
# Creates a test certificate authority and the certificates socle needs, with
# openssl: a server certificate for localhost; client certificates for two
# terminals of OFFICE (terminal, terminal2), one terminal of another office
# (other-terminal, KH-BB-01), a ministry system, a ministry statistics system,
# an auditor and an administrator workstation; a revoked terminal certificate
# and the revocation list naming it (crl/, hashed for --crl_dir); and the key
# that signs login tokens (token.key). deploy/principals.textproto maps these
# identities to terminals and roles. Also the Ed25519 key pair that signs
# audit checkpoints.
#
#   deploy/certs.sh DIR [OFFICE]     (OFFICE defaults to KH-SR-03)
#
# Client identities are in the certificate's common name, which the server
# reads: "terminal:<OFFICE>:<NAME>", "ministry:<NAME>", "admin:<NAME>".
# Existing files are kept (run with FORCE=1 to recreate). For development and
# tests only: a ministry issues production certificates from its own CA.
# Also runs deploy/keys.sh DIR (development keys for data at rest).
set -euo pipefail

dir=${1:?usage: certs.sh DIR [OFFICE]}
office=${2:-KH-SR-03}
days=${DAYS:-825}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
cd "$dir"
command -v openssl >/dev/null || { echo "certs.sh: openssl is required" >&2; exit 1; }

# The audit signing key pair (Ed25519): socle-server --audit_signing_key
# signs audit checkpoints with audit-signing.key; auditors keep
# audit-signing.pub.pem and check them with socle-admin audit verify.
if [[ ! -f audit-signing.key || ! -f audit-signing.pub.pem || -n "${FORCE:-}" ]]; then
  (umask 077 && openssl genpkey -algorithm ed25519 -out audit-signing.key)
  openssl pkey -in audit-signing.key -pubout -out audit-signing.pub.pem
  chmod 644 audit-signing.pub.pem
fi

# And the development keys of personal data at rest (data.keys, index.key).
"$here/keys.sh" .

if [[ -f ca.pem && -f server.pem && -f terminal.pem && -f ministry.pem && -f admin.pem && -f token.key && -d crl && -z "${FORCE:-}" ]]; then
  exit 0
fi
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# The certificate authority.
key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/O=socle test/CN=socle test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem

# sign NAME CN EXTENSIONS
sign() {
  local name=$1 cn=$2 ext=$3
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/O=socle test/CN=$cn" -out "$name.csr"
  printf '%b' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days "$days" -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

sign server localhost \
  "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
client_ext="basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n"
sign terminal "terminal:$office:T01" "$client_ext"
sign terminal2 "terminal:$office:T02" "$client_ext"
sign other-terminal "terminal:KH-BB-01:T01" "$client_ext"
sign ministry "ministry:MINISTRY-STATS" "$client_ext"
sign statistics "ministry:STATISTICS" "$client_ext"
sign auditor "auditor:AUDIT-01" "$client_ext"
sign admin "admin:ADMIN-01" "$client_ext"
sign revoked "terminal:$office:REVOKED" "$client_ext"
sign unlisted "kiosk:UNLISTED" "$client_ext"

# The revocation list: the CA revokes `revoked`; crl/ holds it under its
# hash name, as --crl_dir expects.
mkdir -p ca-db crl
: > ca-db/index.txt
echo 1000 > ca-db/crlnumber
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = ca-db/index.txt
crlnumber = ca-db/crlnumber
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_crl_days = $days
CNF
openssl ca -config ca-db/ca.cnf -revoke revoked.pem >/dev/null 2>&1
openssl ca -config ca-db/ca.cnf -gencrl -out crl/ca-crl.pem >/dev/null 2>&1
openssl rehash crl >/dev/null 2>&1 || c_rehash crl >/dev/null

# The key that signs login tokens (the same file on every replica).
openssl rand -hex 32 > token.key
# A certificate from another CA, which the server must refuse (for tests).
key rogue-ca.key
openssl req -x509 -new -key rogue-ca.key -sha256 -days "$days" -subj "/CN=rogue CA" -out rogue-ca.pem
key rogue.key
openssl req -new -key rogue.key -subj "/CN=terminal:$office:ROGUE" -out rogue.csr
printf '%b' "$client_ext" > rogue.ext
openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key -CAcreateserial \
  -days "$days" -sha256 -extfile rogue.ext -out rogue.pem 2>/dev/null
rm -f rogue.csr rogue.ext rogue-ca.key ./*.srl
chmod 644 ./*.pem
echo "certs.sh: certificates written to $(pwd)"
