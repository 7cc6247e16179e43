#!/usr/bin/env bash
# The PostgreSQL baseline for innsyn's ingest figures: what a clinic would
# get by writing its access log to PostgreSQL instead, durably, in
# transactions of BATCH events (default 100).
#
# Starts its own PostgreSQL (Debian's package, installed if missing) in a
# temporary folder on a Unix socket, with Debian's defaults but for a larger
# max_wal_size, so that checkpoints do not decide the figure. fsync and
# synchronous_commit stay on: a commit returns once its WAL is on disk, as
# innsyn acknowledges an append only once it is durable. The table holds
# what innsyn's indexes make findable: the event id, unique (innsyn's
# dedupe), and an index by subject and by actor, each with the time (its S
# and A indexes). Each row's payload is ENTRY_BYTES (default 480) bytes, the
# mean sealed entry of the clinic traffic, random so that nothing compresses
# it (at most 1024, pgcrypto's gen_random_bytes). pgbench runs CLIENTS connections (default 2), each committing a
# transaction of one multi-row INSERT at a time, with prepared statements.
#
# Prints "postgres: N events/s (T transactions of B events/s)" and, with
# --json FILE, writes {"events_per_second": N}.
# Usage: scripts/bench-postgres.sh [EVENTS] [CLIENTS] [BATCH] [--json FILE]
#   (default 200000 2 100)
set -euo pipefail
cd "$(dirname "$0")/.."

json=""
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
events=${args[0]:-200000}
clients=${args[1]:-2}
batch=${args[2]:-100}
entry_bytes=${ENTRY_BYTES:-480}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || ! command -v pgbench >/dev/null; then
  echo "bench-postgres: installing PostgreSQL (Debian's package), without its default cluster" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql-common >/dev/null
  # Only this script's own server runs; Debian's main cluster is not made.
  sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' \
    /etc/postgresql-common/createcluster.conf
  apt-get install -y -q postgresql postgresql-contrib >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# PostgreSQL will not run as root: the server and pgbench run as the
# package's postgres user, in a folder of their own.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
dir=$(mktemp -d /tmp/innsyn-pg.XXXXXX)
chmod 755 "$dir"
if [ ${#as_pg[@]} -gt 0 ]; then chown postgres: "$dir"; fi
stop() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U bench --auth=trust >/dev/null
cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
max_wal_size = 4GB
fsync = on
synchronous_commit = on
EOF
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null

psql=("${as_pg[@]}" psql -h "$dir" -U bench -d postgres -q -v ON_ERROR_STOP=1)
"${psql[@]}" <<'SQL'
CREATE TABLE access_log (
  seq         bigserial PRIMARY KEY,
  event_id    text NOT NULL UNIQUE,
  occurred_at timestamptz NOT NULL,
  subject_id  text NOT NULL,
  actor_id    text NOT NULL,
  entry       bytea NOT NULL
);
CREATE INDEX access_log_subject ON access_log (subject_id, occurred_at);
CREATE INDEX access_log_actor ON access_log (actor_id, occurred_at);
-- gen_random_bytes: an entry that does not compress.
CREATE EXTENSION pgcrypto;
SQL

# One transaction: BATCH events of one source, each with its own id, about
# patients of a 40,000-patient clinic and its 40 staff, in the last hour.
cat >"$dir/append.sql" <<EOF
INSERT INTO access_log (event_id, occurred_at, subject_id, actor_id, entry)
SELECT 'journal-' || :client_id || '-' || gen_random_uuid(),
       now() - random() * interval '1 hour',
       'patient-' || (random() * 40000)::int,
       'staff-' || (random() * 40)::int,
       gen_random_bytes($entry_bytes)
  FROM generate_series(1, $batch);
EOF
chmod 644 "$dir/append.sql"

transactions=$((events / batch / clients))
if [ "$transactions" -lt 1 ]; then transactions=1; fi
"${as_pg[@]}" pgbench -h "$dir" -U bench -n -M prepared -c "$clients" -j "$clients" \
  -t "$transactions" -f "$dir/append.sql" postgres >"$dir/pgbench.txt" 2>&1 || {
  cat "$dir/pgbench.txt" "$dir/server.log" >&2
  exit 1
}
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/pgbench.txt")
rows=$("${psql[@]}" -At -c 'SELECT count(*) FROM access_log')
expected=$((transactions * clients * batch))
if [ "$rows" -ne "$expected" ]; then
  echo "bench-postgres: the table holds $rows rows, not $expected" >&2
  exit 1
fi
rate=$(awk -v t="$tps" -v b="$batch" 'BEGIN { printf "%d", t * b }')
echo "postgres: $rate events/s ($tps transactions of $batch events/s; $clients clients, $rows rows, $("$bin/postgres" --version | awk '{ print $3 }'))"
if [ -n "$json" ]; then echo "{\"events_per_second\": $rate}" >"$json"; fi
