# Sourced by tools/loadtest-nodes: `start_postgres DIR` starts a throw-away PostgreSQL 15 in DIR, durable
# (fsync on) with the settings of tools/bench-append's, listening only on a Unix socket in DIR (as the
# postgres user when run as root), logging lock waits and statements over a second; `postgres_url DB`
# names a database in it, `create_database DB` makes one; `stop_postgres` stops it.
postgres_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
postgres_dir=""
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
start_postgres() {
  [ -n "$postgres_bin" ] || { echo "loadtest: PostgreSQL is missing (apt-get install postgresql)" >&2; exit 69; }
  postgres_dir="$1"
  mkdir -p "$postgres_dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$postgres_dir"; fi
  as_postgres "$postgres_bin/initdb" -D "$postgres_dir/data" -U postgres --auth=trust --no-locale >/dev/null
  as_postgres "$postgres_bin/pg_ctl" -D "$postgres_dir/data" -l "$postgres_dir/log" -w \
    -o "-k $postgres_dir -p 5432 -c listen_addresses= -c shared_buffers=256MB -c max_wal_size=4GB -c max_connections=200 -c log_lock_waits=on -c log_min_duration_statement=1000" start >/dev/null
}
postgres_url() { echo "postgres://postgres@localhost/$1?host=$postgres_dir"; }
create_database() { as_postgres "$postgres_bin/createdb" -h "$postgres_dir" -U postgres "$1"; }
stop_postgres() {
  if [ -n "$postgres_dir" ] && [ -d "$postgres_dir/data" ]; then as_postgres "$postgres_bin/pg_ctl" -D "$postgres_dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
}
