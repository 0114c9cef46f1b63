#!/usr/bin/env bash
# Runs the browser test's flows N times in a row (default 20), to show that
# no step races the browser. Not run by CI, which runs the flows once.
#   bash scripts/browser-repeat.sh [N]
# With LOAD=1 a release build of the workspace runs beside it, as on a busy
# machine (in its own target dir, so the test's build is not disturbed).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/signpost-target}"
bash scripts/install-browser.sh
cargo test -p signpost-tests --test browser --no-run
load_pid=""
if [ "${LOAD:-0}" = "1" ]; then
    load_dir="$(mktemp -d)"
    echo "== load: a release build in $load_dir, beside the test"
    # Its own session, so the whole build can be stopped when the test ends.
    setsid bash -c "cargo build --workspace --release --target-dir '$load_dir' >/dev/null 2>&1; rm -rf '$load_dir'" &
    load_pid=$!
fi
status=0
SIGNPOST_REQUIRE_BROWSER=1 SIGNPOST_BROWSER_REPEAT="$runs" \
    cargo test -p signpost-tests --test browser -- --nocapture || status=$?
if [ -n "$load_pid" ]; then
    if kill -0 "$load_pid" 2>/dev/null; then
        echo "== load: the release build was still running when the test ended"
        kill -- "-$load_pid" 2>/dev/null || true
    else
        echo "== load: the release build ended before the test did"
    fi
fi
exit "$status"
