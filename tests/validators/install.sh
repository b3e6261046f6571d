#!/usr/bin/env bash
# Installs the SBOM validators' npm dependencies (pinned by package-lock.json) into
# tests/validators/node_modules (gitignored). Idempotent: skipped when the lock file is unchanged
# since the last install.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "validators: npm is missing (apt-get install npm)" >&2; exit 2; }
stamp=node_modules/.probity-installed
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
echo "validators: npm dependencies installed"
