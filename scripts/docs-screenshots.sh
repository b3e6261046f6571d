#!/usr/bin/env bash
# docs-screenshots.sh [BUILD]
# The pictures of report.html, diff.html and equiv.html in docs/ that the README shows: the
# planted test image scanned, the diff-pair fixture diffed, two equiv fixtures compared, each page
# opened in Debian's headless Chromium by the same checks as the tests (tests/browser), the top of
# the page saved. Needs the fixtures (make fixtures) and the browser packages (make npm-deps).
set -euo pipefail
build=${1:-build}
probity=${PROBITY:-$build/probity}
fx=$build/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc() { "$@" || [ $? -le 1 ]; }  # exit 1 is a failed verdict, which is what the pictures show
rc "$probity" scan "$fx/checks/planted.sqfs" --out "$tmp/scan" --quiet
rc "$probity" diff "$fx/diff-pair/old.squashfs" "$fx/diff-pair/new.squashfs" --out "$tmp/diff" --quiet
rc "$probity" equiv "$fx/equiv/a.bin" "$fx/equiv/b.bin" --out "$tmp/equiv" --quiet
export SCREENSHOT_FULL_PAGE=0
node tests/browser/render.mjs "$tmp/scan/report.html" docs/report-html.png
node tests/browser/render-diff.mjs "$tmp/diff/diff.html" docs/diff-html.png
node tests/browser/render-equiv.mjs "$tmp/equiv/equiv.html" docs/equiv-html.png
