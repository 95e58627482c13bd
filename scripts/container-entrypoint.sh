#!/bin/sh
# The container's entrypoint: the configuration may come in the environment (FTPX_CONFIG_YAML, as
# the CDK app passes it) and is written where `--config /tmp/ftpx.yaml` finds it. ECS hands the task's
# secrets over as environment variables (infra/lib/edge-secrets.ts); the worker reads files, so the
# FTPS certificate and key and the SSH host key (derived from its seed) are written to
# $FTPX_SECRETS_DIR (the paths infra/lib/worker-config.ts puts in the config), readable by this user
# only, and their variables are removed before the worker starts. `exec` makes node PID 1's only
# process, so ECS's SIGTERM reaches the worker, which then drains its sessions.
set -eu
app_dir="${FTPX_APP_DIR:-/app}"
config_path="${FTPX_CONFIG_PATH:-/tmp/ftpx.yaml}"
secrets_dir="${FTPX_SECRETS_DIR:-/tmp/ftpx-secrets}"
umask 077
if [ -n "${FTPX_CONFIG_YAML:-}" ]; then
  printf '%s\n' "$FTPX_CONFIG_YAML" > "$config_path"
fi
if [ -n "${FTPX_TLS_CERTIFICATE:-}" ] || [ -n "${FTPX_SSH_HOST_KEY_SEED:-}" ]; then
  mkdir -p "$secrets_dir"
fi
if [ -n "${FTPX_TLS_CERTIFICATE:-}" ]; then
  if [ -z "${FTPX_TLS_PRIVATE_KEY:-}" ]; then
    echo "ftpx-entrypoint: FTPX_TLS_CERTIFICATE is set but FTPX_TLS_PRIVATE_KEY is not (the secret needs both JSON keys, certificate and privateKey)" >&2
    exit 2
  fi
  printf '%s\n' "$FTPX_TLS_CERTIFICATE" > "$secrets_dir/tls-certificate.pem"
  printf '%s\n' "$FTPX_TLS_PRIVATE_KEY" > "$secrets_dir/tls-private-key.pem"
fi
if [ -n "${FTPX_SSH_HOST_KEY_SEED:-}" ]; then
  printf '%s' "$FTPX_SSH_HOST_KEY_SEED" | node "$app_dir/scripts/ssh-host-key-from-seed.mjs" > "$secrets_dir/ssh_host_ed25519_key"
fi
unset FTPX_CONFIG_YAML FTPX_TLS_CERTIFICATE FTPX_TLS_PRIVATE_KEY FTPX_SSH_HOST_KEY_SEED
exec node "$app_dir/dist/edge-worker/cli.js" "$@"
