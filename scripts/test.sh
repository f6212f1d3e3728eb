#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system test dependencies, build, static checks,
# then every unit, integration and end-to-end test. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
mkdir -p out
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=out/vitest.json "$@" || status=$?
node scripts/test-summary.mjs out/vitest.json || true
exit "$status"
