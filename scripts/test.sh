#!/usr/bin/env bash
# Runs every test of the workspace. Installs what the tests need on a fresh machine.
# PostgreSQL: uses $SYSTEMBRUKER_TEST_POSTGRES_URL, or the local server at 127.0.0.1:5432
# (database `test`) when one answers; without either, the PostgreSQL variants are
# skipped with a message (under CI=true they fail instead).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SYSTEMBRUKER_TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null \
    && pg_isready -h 127.0.0.1 -p 5432 -q; then
    export SYSTEMBRUKER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
fi

cargo test --workspace "$@"
