#!/bin/bash
# LocalStack init hook (runs once LocalStack is ready): the table an edge worker uses with
# `store.endpoint: http://localhost:4566` and no CDK deployment, shaped like the CDK app's table
# (string keys pk/sk, on-demand, TTL on expiresAt). The CDK stack creates its own table.
set -euo pipefail
TABLE="${FTPX_TABLE:-ftpx}"
if awslocal dynamodb describe-table --table-name "$TABLE" >/dev/null 2>&1; then
  echo "ftpx: table $TABLE exists"
  exit 0
fi
awslocal dynamodb create-table \
  --table-name "$TABLE" \
  --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S \
  --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
  --billing-mode PAY_PER_REQUEST >/dev/null
awslocal dynamodb update-time-to-live \
  --table-name "$TABLE" \
  --time-to-live-specification Enabled=true,AttributeName=expiresAt >/dev/null
echo "ftpx: table $TABLE created"
