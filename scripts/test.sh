#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the system packages the tests need (real FTP servers
# and clients), the npm dependencies, builds, lints, and runs every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm ci --no-audit --no-fund
npm run build
npm run lint
npx vitest run
