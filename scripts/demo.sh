#!/usr/bin/env bash
# The journey demo in one command: builds and starts the platform (systembruker serve
# --demo), Skatteetaten's example API (example-provider) and SmartCloud's example app
# SmartRegnskap (example-vendor), prints the URLs to open, and stops all three on Ctrl-C.
#
#   scripts/demo.sh [--platform-port N] [--provider-port N] [--vendor-port N] [--database-url URL]
#
# Ports default to free ones; the database to a fresh SQLite file in a temporary
# directory (give --database-url postgres://… or sqlite://… to keep one). Set
# SYSTEMBRUKER_DEMO_NO_BUILD=1 to use binaries already built in $CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PLATFORM_PORT="" PROVIDER_PORT="" VENDOR_PORT="" DATABASE_URL=""
while [ $# -gt 0 ]; do
    case "$1" in
        --platform-port) PLATFORM_PORT="$2"; shift 2 ;;
        --provider-port) PROVIDER_PORT="$2"; shift 2 ;;
        --vendor-port) VENDOR_PORT="$2"; shift 2 ;;
        --database-url) DATABASE_URL="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
PLATFORM_PORT="${PLATFORM_PORT:-$(free_port)}"
PROVIDER_PORT="${PROVIDER_PORT:-$(free_port)}"
VENDOR_PORT="${VENDOR_PORT:-$(free_port)}"

if [ "${SYSTEMBRUKER_DEMO_NO_BUILD:-}" != 1 ]; then
    cargo build -q -p systembruker -p example-provider -p example-vendor
fi
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
bin="$target/debug"

WORK="$(mktemp -d)"
DATABASE_URL="${DATABASE_URL:-sqlite://$WORK/demo.db?mode=rwc}"
# A fresh operator token each run: the example apps use it once, to register their
# Maskinporten clients with keys they make at start.
ADMIN="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
PLATFORM="http://127.0.0.1:$PLATFORM_PORT"
PROVIDER="http://127.0.0.1:$PROVIDER_PORT"
VENDOR="http://127.0.0.1:$VENDOR_PORT"
pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop INT TERM EXIT

wait_for() { # URL NAME LOG
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.2
    done
    echo "error: $2 did not start; its log:" >&2
    cat "$3" >&2
    exit 1
}

"$bin/systembruker" serve --demo --listen "127.0.0.1:$PLATFORM_PORT" --public-url "$PLATFORM" \
    --database-url "$DATABASE_URL" --admin-token "$ADMIN" >"$WORK/platform.log" 2>&1 &
pids+=($!)
wait_for "$PLATFORM/health/ready" systembruker "$WORK/platform.log"

SYSTEMBRUKER_ADMIN_TOKEN="$ADMIN" "$bin/example-provider" --listen "127.0.0.1:$PROVIDER_PORT" \
    --platform-url "$PLATFORM" >"$WORK/provider.log" 2>&1 &
pids+=($!)
wait_for "$PROVIDER/health" example-provider "$WORK/provider.log"

SYSTEMBRUKER_ADMIN_TOKEN="$ADMIN" "$bin/example-vendor" --listen "127.0.0.1:$VENDOR_PORT" \
    --platform-url "$PLATFORM" --provider-url "$PROVIDER" >"$WORK/vendor.log" 2>&1 &
pids+=($!)
wait_for "$VENDOR/health" example-vendor "$WORK/vendor.log"

cat <<TEXT

  The journey demo is running (logs in $WORK):

    SmartRegnskap (SmartCloud's site)   $VENDOR/
    Altinn portal (systembruker)        $PLATFORM/accessmanagement/ui/
    Skatteetaten's API                  $PROVIDER/

  1. Customer: open SmartRegnskap, "Prøv gratis", org number 315000009 (Rør og Vann AS);
     in the portal choose Pia Rørlegger and approve; back on the receipt, "Til oversikten"
     shows the claims. Delete the system access in the portal and reload the overview.
  2. Accountant: "For regnskapsførere" (Tallmakerne AS, Tina Tallmaker 21906810074); approve
     as Tina; the overview lists the clients: add Rør og Vann AS and see its data.

  Ctrl-C stops all three.
TEXT
wait
