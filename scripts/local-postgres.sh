# Sourced: starts a throw-away PostgreSQL cluster of Debian's postgresql package under "$1" (initdb as the
# postgres user when run as root), exports PA_DATABASE_URL, and stops it when the calling shell exits.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_dir="$1"
pg_as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_stop() { pg_as_owner "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; }
pg_psql() { "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 "$PA_DATABASE_URL" -c "$1"; }
mkdir -p "$pg_dir"
chmod 755 "$(dirname "$pg_dir")"
[ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_as_owner "$PG_BIN/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
pg_as_owner "$PG_BIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c max_connections=100" start >/dev/null
export PA_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
