#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the browser tests
# (tests/tests/browser.rs). Does nothing when both are already there.
# Uses sudo only when not run as root.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "chromium and chromedriver are installed: $(/usr/bin/chromedriver --version 2>/dev/null | head -n1)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
else
    echo "install-browser: not root and no sudo; install the Debian packages chromium and chromium-driver" >&2
    exit 1
fi

echo "installing chromium and chromium-driver from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-dejavu-core
/usr/bin/chromium --version
/usr/bin/chromedriver --version
