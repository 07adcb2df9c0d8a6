#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1: start them if installed, install them from
# Debian's packages if absent (needs root). Prints the TEST_* URLs to use. Safe to run repeatedly.
set -u

log() { echo "ensure_services: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo -n "$@"; else return 1; fi; }
apt_updated=0
apt_install() {
  have apt-get || return 1
  if [ $apt_updated = 0 ]; then as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

pg_up() { have pg_isready && pg_isready -h 127.0.0.1 -p 5432 -q; }
redis_up() { have redis-cli && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

# ---- PostgreSQL
if ! pg_up; then
  if ! have pg_ctlcluster; then
    log "installing PostgreSQL from Debian packages"
    apt_install postgresql postgresql-client || log "could not install PostgreSQL"
  fi
  if have pg_ctlcluster; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$ver" ]; then
      log "starting PostgreSQL $ver"
      as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 2>&1 || log "pg_ctlcluster start failed"
    fi
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if pg_up; then
  # A fresh Debian install asks for a password over TCP: give the postgres role a known one for tests.
  if ! PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -U postgres -w -c 'select 1' >/dev/null 2>&1; then
    as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >&2 2>&1 || true
    echo "TEST_POSTGRES_URL=postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  log "PostgreSQL is up"
else
  log "PostgreSQL is NOT available"
fi

# ---- Redis
if ! redis_up; then
  if ! have redis-server; then
    log "installing Redis from Debian packages"
    apt_install redis-server || log "could not install Redis"
  fi
  if have redis-server; then
    log "starting Redis"
    mkdir -p /tmp/ztbot-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp/ztbot-redis --logfile /tmp/ztbot-redis/redis.log >&2 2>&1 || log "redis-server failed"
  fi
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
fi
if redis_up; then log "Redis is up"; else log "Redis is NOT available"; fi
exit 0
