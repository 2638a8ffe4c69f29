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
# The load client signs its assertions before its timed part. It asks for system-user
# tokens (for Rør og Vann AS's system user of the bench client's system), the kind the
# audit records. Every arrangement runs two servers side by side, one with `--audit off`
# and one with `--audit on`, measured in alternating rounds; the audit's cost is the
# difference of their median ratios (README, "Audit").
# SB_BENCH_BIN / SB_BENCH_LOAD use other binaries and skip the release build (a quick
# check with debug builds).
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
BIN="${SB_BENCH_BIN:-target/release/systembruker}"
LOAD="${SB_BENCH_LOAD:-target/release/examples/token_load}"
SERVERS=""
trap 'for s in ${SERVERS}; do kill "${s}" 2>/dev/null; done; wait 2>/dev/null; rm -rf "${WORK}"' EXIT

if [ -z "${SB_BENCH_BIN:-}" ]; then
  cargo build --release -q -p systembruker --bin systembruker --example token_load
fi
VENDOR_SCOPES="altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write"

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

# start_server NAME SERVER_CPUS AUDIT: a demo server with the audit on or off, a bench
# client, and Rør og Vann AS's system user of the client's system (approved by Pia,
# through the dev-mode test tools). Prints "URL CLIENT_ID PID" (it runs in a subshell).
start_server() {
  local name="$1" server_cpus="$2" audit="$3" port url client_id vendor pia request pid
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  url="http://127.0.0.1:${port}"
  # One client at thousands of tokens a second is the benchmark, not an abuse: raise the
  # token limits far above it (README, "Limits and protection"), but keep them counting,
  # so their cost is part of what is measured.
  SYSTEMBRUKER_RATE_LIMIT_TOKEN_CLIENT=1000000/s SYSTEMBRUKER_RATE_LIMIT_TOKEN_ADDRESS=1000000/s \
  SYSTEMBRUKER_LOG_FORMAT=json RUST_LOG=warn taskset -c "${server_cpus}" "${BIN}" serve --demo \
    --listen "127.0.0.1:${port}" --database-url "sqlite://${WORK}/${name}-${audit}.db" --admin-token "${ADMIN}" \
    --audit "${audit}" >"${WORK}/${name}-${audit}.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fs "${url}/health/ready" >/dev/null && break
    sleep 0.2
  done
  "${BIN}" keygen --kid "bench-${name}-${audit}-$$" --out "${WORK}" >/dev/null 2>&1
  client_id="$("${BIN}" client create --url "${url}" --admin-token "${ADMIN}" --name bench \
    --consumer-org 991825827 --scope skatteetaten:kravogbetalinger --jwk "${WORK}/bench-${name}-${audit}-$$.jwk.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')"
  vendor="$(curl -fsG "${url}/testtools/api/GetEnterpriseToken" --data-urlencode orgNo=991825827 \
    --data-urlencode "scopes=${VENDOR_SCOPES}")"
  curl -fs -o /dev/null -H "Authorization: Bearer ${vendor}" -H 'Content-Type: application/json' \
    "${url}/authentication/api/v1/systemregister/vendor" --data "{\"id\": \"991825827_bench\",
      \"vendor\": {\"authority\": \"iso6523-actorid-upis\", \"ID\": \"0192:991825827\"},
      \"name\": {\"nb\": \"Bench\", \"nn\": \"Bench\", \"en\": \"Bench\"},
      \"description\": {\"nb\": \"b\", \"nn\": \"b\", \"en\": \"b\"},
      \"rights\": [{\"resource\": [{\"id\": \"urn:altinn:resource\", \"value\": \"ske-krav-og-betalinger\"}]}],
      \"clientId\": [\"${client_id}\"], \"isVisible\": false}"
  request="$(curl -fs -H "Authorization: Bearer ${vendor}" -H 'Content-Type: application/json' \
    "${url}/authentication/api/v1/systemuser/request/vendor" --data '{"systemId": "991825827_bench",
      "partyOrgNo": "315000009",
      "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}]}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  pia="$(curl -fsG "${url}/testtools/api/GetPersonalToken" --data-urlencode pid=14857510098 \
    --data-urlencode scopes=altinn:portal/enduser)"
  curl -fs -o /dev/null -X POST -H "Authorization: Bearer ${pia}" \
    "${url}/authentication/api/v1/systemuser/request/70000003/${request}/approve"
  echo "${url} ${client_id} ${pid}"
}

# run_case NAME SERVER_CPUS LOAD_CPUS SENDER
run_case() {
  local name="$1" server_cpus="$2" load_cpus="$3" sender="$4" audit url client_id pid
  local -A urls clients ratios
  for audit in off on; do
    read -r url client_id pid < <(start_server "${name}" "${server_cpus}" "${audit}")
    SERVERS="${SERVERS} ${pid}"
    urls[${audit}]="${url}"
    clients[${audit}]="${client_id}"
    ratios[${audit}]=""
  done
  echo "== HTTP system-user token issuance (${name}): servers on CPUs ${server_cpus}, load client (${sender}) on CPUs ${load_cpus}; ${ROUNDS} rounds of ${COUNT} requests per audit setting, ${CONCURRENCY} in flight"
  local round raw tokens
  for round in $(seq 1 "${ROUNDS}"); do
    for audit in off on; do
      raw="$(raw_signing_rate "${server_cpus}")"
      tokens="$(SB_BENCH_SYSTEM_USER_ORG=315000009 taskset -c "${load_cpus}" "${LOAD}" "${urls[${audit}]}" \
        "${clients[${audit}]}" "${WORK}/bench-${name}-${audit}-$$.pem" "bench-${name}-${audit}-$$" \
        skatteetaten:kravogbetalinger "${COUNT}" "${CONCURRENCY}" "${sender}" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_second"])')"
      ratios[${audit}]="${ratios[${audit}]} $(python3 -c "print(round(100 * ${tokens} / ${raw}, 1))")"
      printf 'round %2d, audit %-3s: raw %7.0f sign/s, tokens %6.0f /s, ratio %5.1f %%\n' "${round}" "${audit}" \
        "${raw}" "${tokens}" "$(python3 -c "print(100 * ${tokens} / ${raw})")"
    done
  done
  python3 -c "
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
m_off, m_on = statistics.median(off), statistics.median(on)
print(f'${name}: median ratio audit off {m_off:.1f} %, audit on {m_on:.1f} % ({len(off)} rounds each): the audit costs {100 * (1 - m_on / m_off):.1f} % of the rate')
" "${ratios[off]}" "${ratios[on]}"
  for s in ${SERVERS}; do kill "${s}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  SERVERS=""
}

ALL="0-$((CORES - 1))"
if [ "${CORES}" -ge 2 ]; then
  run_case pinned 0 1 poll
  run_case pinned-sleeping 0 1 reqwest
fi
run_case shared "${ALL}" "${ALL}" reqwest
