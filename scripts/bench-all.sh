#!/usr/bin/env bash
# Runs every benchmark (release build, loopback only) and writes what each
# printed, with the command, to docs/benchmark-runs/<date>.md, for copying
# into docs/benchmarks.md. Heavy: about 20-40 minutes on a 2-core machine
# (the 1,000,000-service search loads 50,000 listings). Not part of CI.
#
#   bash scripts/bench-all.sh            # everything, full size
#   QUICK=1 bash scripts/bench-all.sh    # small sizes, a few minutes
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/signpost-target}"
cargo build --release --locked -p signpost-bench
bench="$CARGO_TARGET_DIR/release/signpost-bench"
out="docs/benchmark-runs/$(date -u +%Y-%m-%d).md"
mkdir -p "$(dirname "$out")"
if [[ "${QUICK:-}" == 1 ]]; then
  crawl_hubs=1000 search_hubs=1000 reports_hubs=500 sync_hubs=500
else
  crawl_hubs=10000 search_hubs=50000 reports_hubs=5000 sync_hubs=5000
fi
{
  echo "# Benchmark run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
  echo
} > "$out"
run() {
  echo "== $*" >&2
  {
    echo "## \`$*\`"
    echo
    "$@"
    echo
  } >> "$out"
}
run "$bench" crawl --hubs 1000 --services 20 --concurrency 32
run "$bench" crawl --hubs "$crawl_hubs" --services 20 --concurrency 32
run "$bench" serve --services 20
run "$bench" converge --rounds 5
run "$bench" search --hubs "$search_hubs" --services 20
run "$bench" reports --hubs "$reports_hubs" --services 20
run "$bench" sync "$sync_hubs" 20
echo "written: $out" >&2
