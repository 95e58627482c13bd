#!/bin/sh
# The container's entrypoint: the configuration may come in the environment (FTPX_CONFIG_YAML, as
# the CDK app passes it) and is written where `--config /tmp/ftpx.yaml` finds it. `exec` makes node
# PID 1's only process, so ECS's SIGTERM reaches the worker, which then drains its sessions.
set -eu
if [ -n "${FTPX_CONFIG_YAML:-}" ]; then
  umask 077
  printf '%s\n' "$FTPX_CONFIG_YAML" > /tmp/ftpx.yaml
fi
exec node /app/dist/edge-worker/cli.js "$@"
