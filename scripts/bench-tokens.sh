#!/usr/bin/env bash
# Token issuance over HTTP on loopback, next to the machine's raw RSA-2048 signing rate.
#
#   scripts/bench-tokens.sh [COUNT] [CONCURRENCY]
#
# 1. `openssl speed` for RSA-2048 signing: on one core (pinned to CPU 0), and one process
#    per core.
# 2. A release server (SQLite, demo data) on 127.0.0.1, a client made with the CLI, then
#    COUNT token requests (default 3000) with CONCURRENCY in flight (default 16), twice:
#    a) pinned: the server on CPU 0, the load client on CPU 1. The server's rate is then
#       compared with the raw signing rate of that same core.
#    b) shared: server and load client both on every core (a lower bound for the server,
#       compared with the all-core raw rate).
#    The load client signs its assertions before the timed part.
# Bounded: COUNT requests, a 60 s deadline in the client; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${1:-3000}"
CONCURRENCY="${2:-16}"
CORES="$(nproc)"
WORK="$(mktemp -d)"
ADMIN="bench-$(date +%s)"
BIN=target/release/systembruker
LOAD=target/release/examples/token_load
SERVER=""
trap '[ -n "${SERVER}" ] && kill "${SERVER}" 2>/dev/null; wait 2>/dev/null; rm -rf "${WORK}"' EXIT

echo "== openssl speed rsa2048 (sign/s): one process on CPU 0, then ${CORES} processes"
taskset -c 0 openssl speed -seconds 3 rsa2048 2>/dev/null | grep -E '^rsa 2048' || true
openssl speed -seconds 3 -multi "${CORES}" rsa2048 2>/dev/null | grep -E '^rsa 2048' || true

cargo build --release -q -p systembruker --bin systembruker --example token_load

# run_case NAME SERVER_CPUS LOAD_CPUS
run_case() {
  local name="$1" server_cpus="$2" load_cpus="$3" port url client_id
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  url="http://127.0.0.1:${port}"
  SYSTEMBRUKER_LOG_FORMAT=json RUST_LOG=warn taskset -c "${server_cpus}" "${BIN}" serve --demo \
    --listen "127.0.0.1:${port}" --database-url "sqlite://${WORK}/${name}.db" --admin-token "${ADMIN}" \
    >"${WORK}/${name}.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do
    curl -fs "${url}/health/ready" >/dev/null && break
    sleep 0.2
  done
  "${BIN}" keygen --kid "bench-${name}-$$" --out "${WORK}" >/dev/null 2>&1
  client_id="$("${BIN}" client create --url "${url}" --admin-token "${ADMIN}" --name bench \
    --consumer-org 991825827 --scope skatteetaten:kravogbetalinger --jwk "${WORK}/bench-${name}-$$.jwk.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')"
  echo "== HTTP token issuance (${name}): server on CPUs ${server_cpus}, load client on CPUs ${load_cpus}; ${COUNT} requests, ${CONCURRENCY} in flight"
  taskset -c "${load_cpus}" "${LOAD}" "${url}" "${client_id}" "${WORK}/bench-${name}-$$.pem" \
    "bench-${name}-$$" skatteetaten:kravogbetalinger "${COUNT}" "${CONCURRENCY}"
  kill "${SERVER}" 2>/dev/null || true
  wait "${SERVER}" 2>/dev/null || true
  SERVER=""
}

ALL="0-$((CORES - 1))"
if [ "${CORES}" -ge 2 ]; then
  run_case pinned 0 1
fi
run_case shared "${ALL}" "${ALL}"
