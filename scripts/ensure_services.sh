#!/usr/bin/env bash
# Make sure the PostgreSQL the tests use is up; start it the way this machine's image does if not.
# In CI a database that cannot be started is a failure, never a skip.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

if ! command -v pg_isready >/dev/null; then
  echo "PostgreSQL client tools missing: installing postgresql" >&2
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_up; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432: starting it" >&2
  cluster=$(ls /etc/postgresql 2>/dev/null | head -n1)
  [ -n "$cluster" ] && pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL could not be started on 127.0.0.1:5432" >&2; exit 1; }
echo "PostgreSQL is up on 127.0.0.1:5432"
