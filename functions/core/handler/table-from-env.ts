import type { Table } from '../store/index.js';
import { createDynamoDbClient } from '../store/index.js';

/** How a function finds its table when it runs in Lambda: from its environment, set by the CDK app. */
export function tableFromEnv(env: NodeJS.ProcessEnv = process.env): Table {
  const name = env.FTPX_TABLE_NAME;
  if (!name) throw new Error('FTPX_TABLE_NAME is not set');
  const endpoint = env.FTPX_STORE_ENDPOINT;
  return {
    name,
    client: createDynamoDbClient({
      region: env.AWS_REGION ?? 'us-east-1',
      ...(endpoint ? { endpoint } : {}),
    }),
  };
}
