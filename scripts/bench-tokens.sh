#!/usr/bin/env bash
# Token issuance over HTTP on loopback, next to the machine's raw RSA-2048 signing rate.
#
#   scripts/bench-tokens.sh [COUNT] [CONCURRENCY]
#
# 1. `openssl speed` for RSA-2048 signing (one process, and one per core).
# 2. A release server (SQLite, demo data) on 127.0.0.1, a client made with the CLI,
#    then COUNT token requests (default 3000) with CONCURRENCY in flight (default 16).
#    The load client signs its assertions before the timed part; it shares the cores with
#    the server during it (HTTP only), so the figure is a lower bound.
# Bounded: COUNT requests, a 60 s deadline in the client; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${1:-3000}"
CONCURRENCY="${2:-16}"
CORES="$(nproc)"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:${PORT}"
ADMIN="bench-$(date +%s)"

echo "== openssl speed rsa2048 (sign/s), 1 process and ${CORES} processes"
openssl speed -seconds 3 rsa2048 2>/dev/null | grep -E '^rsa 2048' || true
openssl speed -seconds 3 -multi "${CORES}" rsa2048 2>/dev/null | grep -E '^rsa 2048' || true

cargo build --release -q -p systembruker --bin systembruker --example token_load
BIN=target/release/systembruker

SYSTEMBRUKER_LOG_FORMAT=json RUST_LOG=warn "${BIN}" serve --demo --listen "127.0.0.1:${PORT}" \
  --database-url "sqlite://${WORK}/bench.db" --admin-token "${ADMIN}" >"${WORK}/server.log" 2>&1 &
SERVER=$!
trap 'kill "${SERVER}" 2>/dev/null || true; wait "${SERVER}" 2>/dev/null || true; rm -rf "${WORK}"' EXIT
for _ in $(seq 1 100); do
  curl -fs "${URL}/health/ready" >/dev/null && break
  sleep 0.2
done

"${BIN}" keygen --kid "bench-$$" --out "${WORK}" >/dev/null 2>&1
CLIENT_ID="$("${BIN}" client create --url "${URL}" --admin-token "${ADMIN}" --name bench \
  --consumer-org 991825827 --scope skatteetaten:kravogbetalinger --jwk "${WORK}/bench-$$.jwk.json" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')"

echo "== HTTP token issuance: ${COUNT} requests, ${CONCURRENCY} in flight, server on ${CORES} cores"
target/release/examples/token_load "${URL}" "${CLIENT_ID}" "${WORK}/bench-$$.pem" "bench-$$" \
  skatteetaten:kravogbetalinger "${COUNT}" "${CONCURRENCY}"
