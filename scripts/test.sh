#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the system packages the tests need (real FTP servers
# and clients), the npm dependencies, builds, lints, and runs every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
# npm install, not npm ci: the registry these machines reach serves only the Linux builds of Biome,
# so the lock file cannot list the other platforms and npm ci refuses it. The lock file still pins every version.
# Its postinstall applies patches/ (patch-package), failing if a patch no longer applies.
npm install --no-audit --no-fund
npm run build
npm run lint
npx vitest run
# The function suites once more on Node 22 (Lambda's runtime), and the CDK app synthesised offline.
bash scripts/test-functions-node22.sh
(cd infra && CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth --quiet --no-notices >/dev/null)
