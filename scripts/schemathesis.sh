#!/usr/bin/env bash
# Property-based API run (not part of CI, it takes minutes): schemathesis, pinned in
# tests/schemathesis-requirements.txt, generates requests from the OpenAPI document of a
# fresh demo server and fails on any 5xx answer. Two passes: a vendor token with every API
# scope of the organisation 991825827, and the operator token.
#   scripts/schemathesis.sh [MAX_EXAMPLES]     (default 25 per operation)
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES="${1:-25}"
PORT="${SCHEMATHESIS_PORT:-18490}"
BASE="http://127.0.0.1:$PORT"
ADMIN="schemathesis-admin-$$"
WORK="$(mktemp -d)"
VENV="${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/systembruker-schemathesis}"

if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/schemathesis-requirements.txt
fi

cargo build -q -p systembruker
BIN="${CARGO_TARGET_DIR:-target}/debug/systembruker"
"$BIN" serve --listen "127.0.0.1:$PORT" --database-url "sqlite://$WORK/st.db" --demo \
    --admin-token "$ADMIN" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do curl -sf -o /dev/null "$BASE/health/ready" && break; sleep 0.1; done

SCOPES="altinn:authentication/systemregister.write altinn:authentication/systemregister.admin \
altinn:authentication/systemuser.request.read altinn:authentication/systemuser.request.write \
altinn:resourceregistry/resource.write altinn:authorization/authorize \
altinn:authorization/authorize.admin altinn:maskinporten/systemuser.read \
altinn:clientdelegations.read altinn:clientdelegations.write altinn:portal/enduser"
VENDOR=$(curl -sfG "$BASE/testtools/api/GetEnterpriseToken" --data-urlencode "orgNo=991825827" \
    --data-urlencode "scopes=$SCOPES")

status=0
for pass in vendor operator; do
    token="$VENDOR"
    [ "$pass" = operator ] && token="$ADMIN"
    echo "== pass: $pass token"
    # From the work directory: schemathesis leaves its example database in the cwd.
    (cd "$WORK" && "$VENV/bin/schemathesis" run "$BASE/swagger/v1/swagger.json" --url "$BASE" \
        --header "Authorization: Bearer $token" --checks not_a_server_error \
        --max-examples "$EXAMPLES" --seed 14 --no-color) || status=1
done
if grep -q '"level":"ERROR"\|ERROR' "$WORK/server.log"; then
    echo "== server errors logged:"
    grep 'ERROR' "$WORK/server.log" | head -20
fi
exit "$status"
