#!/bin/sh
# First start: a cluster whose superuser is reachable only through the local socket, a
# `grader` role with POSTGRES_PASSWORD (scram) and its database. Then run the server.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (no default password)}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initdb -D "$PGDATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >/dev/null
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    # The password goes in as a psql variable (from stdin): never through a shell string.
    psql -v ON_ERROR_STOP=1 -v pw="$POSTGRES_PASSWORD" -U postgres -d postgres -q <<'SQL'
CREATE ROLE grader LOGIN PASSWORD :'pw';
CREATE DATABASE grader OWNER grader;
SQL
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
