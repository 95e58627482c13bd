#!/usr/bin/env bash
# The control-plane function suites again, on Node 22: the runtime the CDK app deploys them on
# (Lambda nodejs22.x), so what Lambda runs is what was tested. Node 22 comes from scripts/fetch-node22.sh.
# Extra arguments go to vitest (e.g. a single file).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE22="$(bash scripts/fetch-node22.sh)"
version="$("$NODE22" --version)"
echo "test-functions-node22: running the function suites on node ${version}" >&2

# The suites that exercise functions/ (handlers, domain code, store access through the real AWS SDK,
# the registry API) on dynalite. The DynamoDB Local variants test the same code against another
# emulator, which Node's version does not change; they run once, in the main suite.
SUITES=(
  test/unit/functions
  test/integration/resolve-backend.test.ts
  test/integration/control-plane
  test/integration/registry
  test/integration/auth
)
if [ "$#" -gt 0 ]; then SUITES=("$@"); fi

# Node 22 first on PATH too, so anything a suite spawns as `node` is Node 22 as well.
PATH="$(pwd)/$(dirname "$NODE22"):${PATH}" "$NODE22" node_modules/vitest/vitest.mjs run "${SUITES[@]}"
