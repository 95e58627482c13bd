import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { createRegistryHandler } from '../../../functions/registry/handler.js';
import { dynaliteStore, type StoreServer, type TestStore } from '../../support/test-stores.js';

export interface RequestOptions {
  /** A bearer token; `null` sends no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Sent as JSON (with Content-Type application/json unless headers say otherwise). */
  json?: unknown;
  /** Sent as is. */
  rawBody?: string;
  query?: Record<string, string>;
  stage?: string;
}

/**
 * An API Gateway HTTP API (payload 2.0) event as API Gateway builds it for `$default` routes:
 * lowercased headers, raw path and query string, `requestContext.http`.
 */
export function apiEvent(method: string, path: string, options: RequestOptions = {}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { host: 'registry.example', 'user-agent': 'vitest' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  if (options.rawBody !== undefined) body = options.rawBody;
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  const query = options.query ?? {};
  const rawQueryString = new URLSearchParams(query).toString();
  const [pathOnly] = path.split('?');
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: pathOnly ?? path,
    rawQueryString,
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      domainName: 'registry.example',
      domainPrefix: 'registry',
      http: {
        method,
        path: pathOnly ?? path,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.10',
        userAgent: 'vitest',
      },
      requestId: `req-${now}-${Math.random().toString(36).slice(2)}`,
      routeKey: '$default',
      stage: options.stage ?? '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

export interface ApiReply {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read reply fields directly and assert on them
  body: any;
  raw: string | undefined;
}

export interface RegistryHarness {
  store: StoreServer;
  table: Table;
  clock: { now: number };
  logs: Record<string, unknown>[];
  call(method: string, path: string, options?: RequestOptions): Promise<ApiReply>;
  /** The handler's raw result, for tests on the Lambda shape. */
  invoke(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2>;
  close(): Promise<void>;
}

export const BOOTSTRAP = 'bootstrap-secret-for-tests-0123456789';

/**
 * A store (dynalite in this process unless told otherwise), one table, the registry handler over it
 * with a bootstrap token.
 */
export async function startRegistry(
  tableName: string,
  testStore: TestStore = dynaliteStore,
): Promise<RegistryHarness> {
  const store = await testStore.start();
  const table: Table = {
    client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
    name: tableName,
  };
  await ensureTable(table);
  const clock = { now: Date.UTC(2030, 0, 1) };
  const logs: Record<string, unknown>[] = [];
  const handler = createRegistryHandler({
    table,
    now: () => clock.now,
    bootstrapToken: BOOTSTRAP,
    log: (entry) => logs.push(entry),
  });
  const context = { awsRequestId: 'test', functionName: 'registry' } as Context;
  const invoke = async (event: APIGatewayProxyEventV2) => handler(event, context);
  return {
    store,
    table,
    clock,
    logs,
    invoke,
    call: async (method, path, options = {}) => {
      const reply = await invoke(apiEvent(method, path, { token: BOOTSTRAP, ...options }));
      const raw = typeof reply.body === 'string' ? reply.body : undefined;
      return {
        status: reply.statusCode ?? 0,
        headers: Object.fromEntries(Object.entries(reply.headers ?? {}).map(([k, v]) => [k, String(v)])),
        body: raw ? JSON.parse(raw) : undefined,
        raw,
      };
    },
    close: async () => {
      table.client.destroy();
      await store.close();
    },
  };
}
