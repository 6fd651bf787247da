#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests use are up; start them the way this machine's image
# does if not.
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

# Redis, for the Celery queue backend's tests (a real worker against a real broker).
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! command -v redis-server >/dev/null; then
  echo "Redis missing: installing redis-server" >&2
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
if ! redis_up; then
  echo "Redis is not answering on 127.0.0.1:6379: starting it" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
redis_up || { echo "Redis could not be started on 127.0.0.1:6379" >&2; exit 1; }
echo "Redis is up on 127.0.0.1:6379"
