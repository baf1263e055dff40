#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs the server benchmark. It starts `cardea serve` on a new temporary
# SQLite database and the bare floor server (bench/bare_server.c) on the
# same database. Both listen on 127.0.0.1 with a free port and have the
# same thread pool size. The load client (bench/load_client.c) then runs
# against both and prints its table. Every process is bounded by `timeout` and
# stopped on exit. Usage: bench/run-bench-server.sh [BUILD_DIR]
#
# Environment (defaults in brackets): CARDEA_BENCH_ENTITIES [10000],
# CARDEA_BENCH_SHARED_EVERY [100], CARDEA_BENCH_CLIENT_THREADS [4],
# CARDEA_BENCH_SERVER_THREADS [twice the cores, as `cardea serve`],
# CARDEA_BENCH_GET_REQUESTS [20000], CARDEA_BENCH_MATCH_REQUESTS [2000],
# CARDEA_BENCH_PHASE_SECONDS [60], CARDEA_BENCH_LOG_LEVEL [info].
set -eu

build=${1:-build}
cardea=$build/cardea
bare=$build/bench/cardea_bench_bare
load=$build/bench/cardea_bench_load
for program in "$cardea" "$bare" "$load"; do
    if [ ! -x "$program" ]; then
        echo "run-bench-server: $program not found; run 'make build'" >&2
        exit 1
    fi
done

entities=${CARDEA_BENCH_ENTITIES:-10000}
shared_every=${CARDEA_BENCH_SHARED_EVERY:-100}
client_threads=${CARDEA_BENCH_CLIENT_THREADS:-4}
server_threads=${CARDEA_BENCH_SERVER_THREADS:-$(( $(nproc) * 2 ))}
get_requests=${CARDEA_BENCH_GET_REQUESTS:-20000}
match_requests=${CARDEA_BENCH_MATCH_REQUESTS:-2000}
phase_seconds=${CARDEA_BENCH_PHASE_SECONDS:-60}
log_level=${CARDEA_BENCH_LOG_LEVEL:-info}
# Upper bound on the lifetime of each server: six phases plus set-up.
lifetime=$(( phase_seconds * 6 + 120 ))

umask 077
dir=$(mktemp -d /tmp/cardea-bench-XXXXXX)
cardea_pid=
bare_pid=

stop() {
    for pid in $cardea_pid $bare_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $cardea_pid $bare_pid; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Waits up to 15 s for a server to write its port file.
wait_for_port() {
    for _ in $(seq 150); do
        if [ -s "$1" ]; then
            cat "$1"
            return 0
        fi
        sleep 0.1
    done
    echo "run-bench-server: no port in $1 after 15 s" >&2
    return 1
}

db=$dir/cardea.sqlite
head -c 24 /dev/urandom | base64 > "$dir/password"
"$cardea" admin --db "$db" user add --login bench-hcp@example.org \
    --password - --type hcp --data-owner-id bench-hcp \
    < "$dir/password" > /dev/null
"$cardea" admin --db "$db" user add --login bench-patient@example.org \
    --password - --type patient --data-owner-id bench-patient \
    < "$dir/password" > /dev/null

timeout -s TERM "$lifetime" "$cardea" serve --db "$db" \
    --listen 127.0.0.1:0 --port-file "$dir/cardea.port" \
    --threads "$server_threads" --log-level "$log_level" \
    2> "$dir/cardea.log" &
cardea_pid=$!
cardea_port=$(wait_for_port "$dir/cardea.port")

timeout -s TERM "$lifetime" "$bare" --db "$db" \
    --port-file "$dir/bare.port" --threads "$server_threads" \
    --max-seconds "$lifetime" &
bare_pid=$!
bare_port=$(wait_for_port "$dir/bare.port")

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# server threads: $server_threads each; cardea log level:" \
     "$log_level (to a file)"
timeout -s TERM "$lifetime" "$load" \
    --cardea-port "$cardea_port" --bare-port "$bare_port" \
    --hcp-login bench-hcp@example.org --hcp-id bench-hcp \
    --patient-login bench-patient@example.org --patient-id bench-patient \
    --password-file "$dir/password" --entities "$entities" \
    --shared-every "$shared_every" --threads "$client_threads" \
    --get-requests "$get_requests" --match-requests "$match_requests" \
    --phase-seconds "$phase_seconds"
echo "# cardea log: $(grep -c ' info ' "$dir/cardea.log" || true) info lines," \
     "$(grep -c -E ' (warn|error) ' "$dir/cardea.log" || true) warn or error"
