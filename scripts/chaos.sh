#!/usr/bin/env bash
# Crash test (not part of CI): kill -9 the server again and again under a mixed write load
# (system-user requests and approvals, agent system users and client adds, tokens), on
# SQLite and on PostgreSQL, then count acknowledged writes, lost writes and invariant
# violations (scripts/chaos_load.py). Expected: 0 lost, 0 violations.
#   scripts/chaos.sh [CYCLES] [BACKENDS]      e.g. scripts/chaos.sh 5 "sqlite postgres"
# PostgreSQL: $SYSTEMBRUKER_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
# a fresh database is made on that server for each run.
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES="${1:-5}"
BACKENDS="${2:-sqlite postgres}"
PG="${SYSTEMBRUKER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
ADMIN="chaos-admin-$$"
PORT="${CHAOS_PORT:-18480}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"

cargo build -q -p systembruker
BIN="${CARGO_TARGET_DIR:-target}/debug/systembruker"

SERVER=""
start_server() {
    "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "$1" --demo \
        --admin-token "$ADMIN" --log-format json >>"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "$BASE/health/ready" && return 0
        sleep 0.1
    done
    echo "the server did not become ready; see $WORK/server.log" >&2
    exit 1
}
kill_server() {
    if [ -n "$SERVER" ]; then
        kill -9 "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    SERVER=""
}
trap kill_server EXIT

# A Maskinporten client of SmartCloud with a key, for the token requests of the load.
token_setup() {
    "$BIN" keygen --kid "chaos-$$-$backend" --out "$WORK" >/dev/null
    "$BIN" client create --url "$BASE" --admin-token "$ADMIN" --name Chaos \
        --consumer-org 991825827 --scope skatteetaten:kravogbetalinger \
        --jwk "$WORK/chaos-$$-$backend.jwk.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])'
}
token_load() { # $1 client id, $2 seconds: token requests until then; counts issued tokens
    local until=$(( $(date +%s) + $2 )) issued=0 failed=0
    while [ "$(date +%s)" -lt "$until" ]; do
        if "$BIN" token --url "$BASE" --client-id "$1" --key "$WORK/chaos-$$-$backend.pem" \
            --scope skatteetaten:kravogbetalinger >/dev/null 2>&1; then
            issued=$((issued + 1))
        else
            failed=$((failed + 1))
        fi
    done
    echo "{\"tokens_issued\": $issued, \"token_requests_failed\": $failed}"
}

failed=0
for backend in $BACKENDS; do
    case "$backend" in
        sqlite) DB="sqlite://$WORK/chaos.db" ;;
        postgres)
            name="chaos_$(date +%s)_$$"
            psql "$PG" -qc "CREATE DATABASE $name" >/dev/null
            DB="${PG%/*}/$name"
            ;;
        *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    ACK="$WORK/$backend.ack"
    : >"$ACK"
    echo "== $backend: $CYCLES kill -9 cycles under load"
    start_server "$DB"
    CLIENT=$(token_setup)
    seconds=$(( CYCLES * 4 + 4 ))
    python3 scripts/chaos_load.py load "$BASE" "$ACK" "$seconds" >"$WORK/$backend.load" &
    LOAD=$!
    token_load "$CLIENT" "$seconds" >"$WORK/$backend.tokens" &
    TOKENS=$!
    for cycle in $(seq 1 "$CYCLES"); do
        sleep "$(python3 -c 'import random; print(round(random.uniform(1.5, 3.5), 1))')"
        kill_server
        echo "  cycle $cycle: killed -9, restarting"
        start_server "$DB"
    done
    wait "$LOAD" "$TOKENS"
    echo "  load:   $(cat "$WORK/$backend.load")"
    echo "  tokens: $(cat "$WORK/$backend.tokens")"
    kill_server
    if ! result=$(python3 scripts/chaos_load.py check "$DB" "$ACK"); then
        failed=1
    fi
    echo "  check:  $result"
    if [ "$backend" = postgres ]; then
        psql "$PG" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null || true
    fi
done
rm -rf "$WORK"
exit "$failed"
