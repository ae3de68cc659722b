#!/usr/bin/env bash
# Start a PgBouncer in transaction mode for the benchmarks' --pgbouncer, with
# the configuration .ci/run uses (every database forwarded to 127.0.0.1:5432),
# on port $1 (default 6442). Prints the URL to pass and how to stop it.
#   bench/pgbouncer.sh 6442
#   .venv/bin/python bench/ingest.py --pgbouncer postgres://postgres@127.0.0.1:6442
set -euo pipefail
port=${1:-6442}
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
dir=$(mktemp -d /tmp/bench-pgbouncer-XXXXXX)
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 40
server_idle_timeout = 10
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
echo '"postgres" ""' >"$dir/userlist.txt"
if [ "$(id -u)" = 0 ]; then  # pgbouncer refuses to run as root
  chown -R postgres "$dir"
  "$bin" -d -u postgres "$dir/pgbouncer.ini"
else
  "$bin" -d "$dir/pgbouncer.ini"
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p "$port" -q && break; sleep 0.2; done
echo "PgBouncer (transaction mode) on postgres://postgres@127.0.0.1:$port"
echo "stop: kill \$(cat $dir/pgbouncer.pid)"
