#!/bin/sh
# The container's entrypoint: the configuration may come in the environment (FTPX_CONFIG_YAML, as
# the CDK app passes it) and is written where `--config /tmp/ftpx.yaml` finds it. `exec` makes node
# PID 1's only process, so ECS's SIGTERM reaches the worker, which then drains its sessions.
set -eu
app_dir="${FTPX_APP_DIR:-/app}"
config_path="${FTPX_CONFIG_PATH:-/tmp/ftpx.yaml}"
if [ -n "${FTPX_CONFIG_YAML:-}" ]; then
  umask 077
  printf '%s\n' "$FTPX_CONFIG_YAML" > "$config_path"
fi
exec node "$app_dir/dist/edge-worker/cli.js" "$@"
