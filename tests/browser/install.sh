#!/usr/bin/env bash
# Installs the browser test's npm packages from the lock file (playwright-core only: it drives
# Debian's /usr/bin/chromium and downloads no browser of its own).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --silent
fi
