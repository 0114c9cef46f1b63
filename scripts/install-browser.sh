#!/usr/bin/env bash
# Installs what the browser tests (tests/tests/browser/) need:
# - Debian's Chromium and ChromeDriver, which drive the pages;
# - Debian's poppler-utils (pdftotext, pdfinfo, pdftoppm), which read the
#   PDF that Chromium prints a leaflet to;
# - axe-core, the accessibility checker the test injects into every page,
#   from the npm registry at the version in tests/browser-deps/package-lock.json.
# Does nothing that is already done. Uses sudo only when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

debian=()
for pair in /usr/bin/chromium:chromium /usr/bin/chromedriver:chromium-driver /usr/bin/pdftoppm:poppler-utils; do
    [ -x "${pair%%:*}" ] || debian+=("${pair#*:}")
done

if [ "${#debian[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo -n)
    else
        echo "install-browser: not root and no sudo; install the Debian packages ${debian[*]}" >&2
        exit 1
    fi
    echo "installing ${debian[*]} from Debian's packages"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver poppler-utils fonts-dejavu-core
fi
echo "chromium and chromedriver: $(/usr/bin/chromedriver --version 2>/dev/null | head -n1)"
echo "poppler-utils: $(pdftoppm -v 2>&1 | head -n1)"

# axe-core: npm ci installs exactly what the lock file names, checked
# against its integrity hash; skipped when that version is already there.
deps=tests/browser-deps
want=$(sed -n 's/.*"axe-core": "\(.*\)".*/\1/p' "$deps/package.json" | head -n1)
have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$deps/node_modules/axe-core/package.json" 2>/dev/null | head -n1 || true)
if [ "$have" != "$want" ] || [ ! -f "$deps/node_modules/axe-core/axe.min.js" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install-browser: npm is missing; install Node.js and npm to fetch axe-core" >&2
        exit 1
    fi
    echo "installing axe-core $want from the npm registry"
    npm ci --prefix "$deps" --no-audit --no-fund --loglevel=error
fi
echo "axe-core: $(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$deps/node_modules/axe-core/package.json" | head -n1)"
