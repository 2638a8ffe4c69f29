#!/usr/bin/env bash
# Token issuance over HTTP on loopback, next to the machine's raw RSA-2048 signing rate.
#
#   scripts/bench-tokens.sh [COUNT] [CONCURRENCY] [ROUNDS]
#
# A release server (SQLite, demo data) on 127.0.0.1 and a client made with the CLI; then,
# ROUNDS times (default 15), one second of `openssl speed rsa2048` on the server's cores
# followed at once by COUNT token requests (default 3000) with CONCURRENCY in flight
# (default 16). Each round gives one ratio; the median is the result. Alternating in
# short rounds matters on a shared machine: the signing rate of a core drifts by ±10 %
# within seconds, so two long runs minutes apart compare different machines.
# Three arrangements:
#    a) pinned: the server on CPU 0, the load client on CPU 1 (`taskset`), the client
#       polling its sockets without sleeping; compared with `openssl speed` on CPU 0. On
#       loopback the sender's core runs the receiver's TCP delivery and wakes it when it
#       sleeps; a client that never sleeps needs no wake-up, so the server's core does
#       the server's work only, as with a client across a network.
#    b) pinned-sleeping: as a), with an ordinary async client (reqwest) that sleeps
#       between responses: the server's core also pays for waking it.
#    c) shared: server and load client (reqwest) both on every core (a lower bound for
#       the server), compared with `openssl speed -multi CORES`.
# The load client signs its assertions before its timed part.
# Bounded: ROUNDS × COUNT requests, a 60 s deadline in the client per round; the server is
# stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${1:-3000}"
CONCURRENCY="${2:-16}"
ROUNDS="${3:-15}"
CORES="$(nproc)"
WORK="$(mktemp -d)"
ADMIN="bench-$(date +%s)"
BIN=target/release/systembruker
LOAD=target/release/examples/token_load
SERVER=""
trap '[ -n "${SERVER}" ] && kill "${SERVER}" 2>/dev/null; wait 2>/dev/null; rm -rf "${WORK}"' EXIT

cargo build --release -q -p systembruker --bin systembruker --example token_load

# raw_signing_rate CPUS: RSA-2048 signatures per second of those CPUs together (one
# `openssl speed` process per CPU), measured for one second.
raw_signing_rate() {
  local cpus="$1" count
  count="$(taskset -c "${cpus}" nproc)"
  if [ "${count}" -eq 1 ]; then
    taskset -c "${cpus}" openssl speed -seconds 1 rsa2048 2>/dev/null | awk '/^rsa 2048/ {print $6}'
  else
    taskset -c "${cpus}" openssl speed -seconds 1 -multi "${count}" rsa2048 2>/dev/null | awk '/^rsa 2048/ {print $6}'
  fi
}

# run_case NAME SERVER_CPUS LOAD_CPUS SENDER
run_case() {
  local name="$1" server_cpus="$2" load_cpus="$3" sender="$4" port url client_id
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  url="http://127.0.0.1:${port}"
  # One client at thousands of tokens a second is the benchmark, not an abuse: raise the
  # token limits far above it (README, "Limits and protection"), but keep them counting,
  # so their cost is part of what is measured.
  SYSTEMBRUKER_RATE_LIMIT_TOKEN_CLIENT=1000000/s SYSTEMBRUKER_RATE_LIMIT_TOKEN_ADDRESS=1000000/s \
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
  echo "== HTTP token issuance (${name}): server on CPUs ${server_cpus}, load client (${sender}) on CPUs ${load_cpus}; ${ROUNDS} rounds of ${COUNT} requests, ${CONCURRENCY} in flight"
  local round raw tokens ratios=""
  for round in $(seq 1 "${ROUNDS}"); do
    raw="$(raw_signing_rate "${server_cpus}")"
    tokens="$(taskset -c "${load_cpus}" "${LOAD}" "${url}" "${client_id}" "${WORK}/bench-${name}-$$.pem" \
      "bench-${name}-$$" skatteetaten:kravogbetalinger "${COUNT}" "${CONCURRENCY}" "${sender}" 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_second"])')"
    ratios="${ratios} $(python3 -c "print(round(100 * ${tokens} / ${raw}, 1))")"
    printf 'round %2d: raw %7.0f sign/s, tokens %6.0f /s, ratio %5.1f %%\n' "${round}" "${raw}" "${tokens}" \
      "$(python3 -c "print(100 * ${tokens} / ${raw})")"
  done
  python3 -c "import statistics, sys; r = [float(x) for x in sys.argv[1:]]; print(f'${name}: median ratio {statistics.median(r):.1f} % (lowest {min(r):.1f}, highest {max(r):.1f}, {len(r)} rounds)')" ${ratios}
  kill "${SERVER}" 2>/dev/null || true
  wait "${SERVER}" 2>/dev/null || true
  SERVER=""
}

ALL="0-$((CORES - 1))"
if [ "${CORES}" -ge 2 ]; then
  run_case pinned 0 1 poll
  run_case pinned-sleeping 0 1 reqwest
fi
run_case shared "${ALL}" "${ALL}" reqwest
