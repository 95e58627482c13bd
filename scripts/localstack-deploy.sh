#!/usr/bin/env bash
# Deploys the CDK app to LocalStack (localstack/docker-compose.yml) with the pinned aws-cdk CLI:
# every AWS call goes to AWS_ENDPOINT_URL (default http://localhost.localstack.cloud:4566, whose
# subdomains resolve to 127.0.0.1 so S3 asset uploads work virtual-hosted), with LocalStack's
# test account. `destroy` as the first argument tears it down instead. cdklocal (npm package
# aws-cdk-local) does the same by patching the CLI; this script needs nothing beyond the repo.
set -euo pipefail
cd "$(dirname "$0")/../infra"

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost.localstack.cloud:4566}"
export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-http://s3.localhost.localstack.cloud:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export CDK_DEFAULT_ACCOUNT="${CDK_DEFAULT_ACCOUNT:-000000000000}"
export CDK_DEFAULT_REGION="$AWS_REGION"
CONFIG="${FTPX_CDK_CONFIG:-context/localstack.json}"

if ! curl -fsS "${AWS_ENDPOINT_URL}/_localstack/health" >/dev/null; then
  echo "localstack-deploy: LocalStack does not answer at ${AWS_ENDPOINT_URL}; start it with" >&2
  echo "  docker compose -f localstack/docker-compose.yml up -d" >&2
  exit 1
fi

if [ "${1:-deploy}" = "destroy" ]; then
  npx cdk destroy --force -c "config=${CONFIG}"
  exit 0
fi
npx cdk bootstrap "aws://${CDK_DEFAULT_ACCOUNT}/${AWS_REGION}" -c "config=${CONFIG}"
npx cdk deploy --require-approval never -c "config=${CONFIG}" --outputs-file cdk.out/localstack-outputs.json
echo "localstack-deploy: outputs in infra/cdk.out/localstack-outputs.json" >&2
