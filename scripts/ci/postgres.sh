#!/usr/bin/env bash
# Make a PostgreSQL server available for the tests on 127.0.0.1:5432 (database `test`, user postgres)
# and print its URL. Reuses a running one; otherwise installs Debian's postgresql (Cloud Build's uv
# image is Debian) and starts a cluster with trust auth on loopback only: a throwaway CI database.
source "$(dirname "$0")/common.sh"
export CI_STEP="${CI_STEP:-postgres}"
URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  log "PostgreSQL already running on 127.0.0.1:5432" >&2
  echo "$URL"; exit 0
fi
[ "$(id -u)" = 0 ] || die "no PostgreSQL on 127.0.0.1:5432, and installing one needs root"
if ! command -v pg_ctlcluster >/dev/null; then
  log "installing postgresql (apt)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
fi
version="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
hba="/etc/postgresql/$version/main/pg_hba.conf"
[ -f "$hba" ] || pg_createcluster "$version" main >&2
# trust on loopback only (this server lives as long as the build step)
sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
pg_ctlcluster "$version" main start >&2
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432 >&2 || die "PostgreSQL did not start"
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >&2
echo "$URL"
