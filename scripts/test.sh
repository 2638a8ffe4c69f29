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

# The npm packages of tests/browser: the Rust OpenID Connect tests start the test OpenID
# provider from there, and the browser tests use playwright-core and axe-core. Without
# node (or offline), those tests skip with a message; under CI=true they fail instead.
have_node=false
if command -v node >/dev/null && command -v npm >/dev/null; then
    lock=tests/browser/package-lock.json
    installed=tests/browser/node_modules/.package-lock.json
    if [ -f "$installed" ] && [ ! "$lock" -nt "$installed" ]; then
        have_node=true
    elif (cd tests/browser && npm ci --no-audit --no-fund); then
        have_node=true
    elif [ "${CI:-}" = true ]; then
        echo "error: npm ci failed in tests/browser" >&2
        exit 1
    else
        echo "note: npm ci failed in tests/browser: OpenID provider and browser tests skip" >&2
    fi
elif [ "${CI:-}" = true ]; then
    echo "error: node and npm are needed for the browser tests" >&2
    exit 1
else
    echo "note: node/npm not found: OpenID provider and browser tests skip" >&2
fi

# The pinned Python tools of tests/requirements.txt (the OpenAPI validator); under
# CI=true a missing tool fails its test instead of skipping it.
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt \
    || [ "${CI:-}" != true ] || { echo "error: pip install -r tests/requirements.txt failed" >&2; exit 1; }

cargo test --workspace "$@"

# Browser tests (tests/browser/*.test.mjs, Node's own runner): the debug binary in
# headless Debian chromium. Without chromium they skip with a message, except under CI.
if [ "$have_node" = true ]; then
    # The journey demo's test (demo.test.mjs) also starts the example programs.
    cargo build -p systembruker -p example-provider -p example-vendor
    target_dir="${CARGO_TARGET_DIR:-target}"
    case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
    export SYSTEMBRUKER_BIN="$target_dir/debug/systembruker"
    export EXAMPLE_PROVIDER_BIN="$target_dir/debug/example-provider"
    export EXAMPLE_VENDOR_BIN="$target_dir/debug/example-vendor"
    node --test --test-concurrency=1 tests/browser/*.test.mjs
fi
