import { rateSeconds, type StackParameters } from './parameters.js';

/**
 * The control-plane functions the stack deploys: one entry per function. Adding a function is adding
 * an entry here; the stack, the API routes, the schedules, the alarms and the template tests all read
 * this list.
 */

/** Who may call a route: edge workers (IAM, SigV4), registry clients (IAM or JWT), or anyone. */
export type RouteAuth = 'edge' | 'registry' | 'public';

export interface FunctionRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';
  path: string;
  auth: RouteAuth;
}

/** Named so that parameters.ts sets the rate (`schedules.<key>`). */
export type ScheduleKey = 'healthCheck' | 'discoveryRefresh' | 'ticketKeyRotation' | 'ocspRefresh';

export interface FunctionSchedule {
  key: ScheduleKey;
  /** The event the schedule sends (the function's contract), from the stack's parameters. */
  input: (parameters: StackParameters) => Record<string, unknown>;
}

export type TableAccess = 'none' | 'read' | 'read-write';

export interface FunctionSpec {
  /** Function name suffix, construct id and log group name. */
  name: string;
  /** Source file, relative to the repository root. */
  entry: string;
  /** Exported name in `entry`. */
  handler: string;
  description: string;
  table: TableAccess;
  routes: FunctionRoute[];
  schedules: FunctionSchedule[];
  /** Route 53 access to the published-backends zone. */
  route53?: 'read' | 'read-write';
  /** Takes part in the edge reserved concurrency (writes on every session). */
  edgeHotPath?: boolean;
  timeoutSeconds: number;
  environment?: (parameters: StackParameters) => Record<string, string>;
}

/**
 * DynamoDB actions per access level, never `dynamodb:*`. Scan is left out on purpose: no function
 * scans the table (expiry is DynamoDB's TTL in AWS); a function that needs it must say so here.
 */
export const TABLE_ACTIONS: Record<Exclude<TableAccess, 'none'>, readonly string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
  'read-write': [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
};

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: 'resolve-backend',
    entry: 'functions/resolve-backend/http-handler.ts',
    handler: 'handler',
    description: 'Orders a pool’s backends under its connect policy (edge workers, every session)',
    table: 'read-write',
    routes: [{ method: 'POST', path: '/v1/resolve-backend', auth: 'edge' }],
    schedules: [],
    edgeHotPath: true,
    timeoutSeconds: 10,
  },
  {
    name: 'session-events',
    entry: 'functions/session-events/http-handler.ts',
    handler: 'handler',
    description: 'Connection leases and connect times reported by edge workers',
    table: 'read-write',
    routes: [{ method: 'POST', path: '/v1/session-events', auth: 'edge' }],
    schedules: [],
    edgeHotPath: true,
    timeoutSeconds: 10,
  },
  {
    name: 'auth',
    entry: 'functions/auth/http-handler.ts',
    handler: 'handler',
    description: 'Proxy authentication (USER/PASS checked before a backend is chosen)',
    table: 'read',
    routes: [{ method: 'POST', path: '/v1/authenticate', auth: 'edge' }],
    schedules: [],
    timeoutSeconds: 10,
  },
  {
    name: 'registry',
    entry: 'functions/registry/handler.ts',
    handler: 'handler',
    description: 'Registration API: pools, backends, user and group mappings, proxy users, tokens',
    // Tokens record their last use (R10), so even reads write.
    table: 'read-write',
    routes: [
      { method: 'ANY', path: '/v1/pools', auth: 'registry' },
      { method: 'ANY', path: '/v1/pools/{proxy+}', auth: 'registry' },
      { method: 'ANY', path: '/v1/tokens', auth: 'registry' },
      { method: 'ANY', path: '/v1/tokens/{proxy+}', auth: 'registry' },
      // The shared TLS caches' info / clear / remove (the tls-cache function serves only edge workers).
      { method: 'ANY', path: '/v1/tls-cache/{proxy+}', auth: 'registry' },
      { method: 'GET', path: '/openapi.json', auth: 'public' },
    ],
    schedules: [],
    // Route 53 publication of registered backends (PUT /v1/pools/{pool}/publication), in the stack's zone.
    route53: 'read-write',
    timeoutSeconds: 15,
    environment: () => ({ FTPX_TRUST_GATEWAY_AUTHORIZER: 'true' }),
  },
  {
    name: 'tls-cache',
    entry: 'functions/tls-cache/http-handler.ts',
    handler: 'handler',
    description: 'TLS session and ticket-key cache, OCSP responses',
    table: 'read-write',
    routes: [{ method: 'POST', path: '/v1/tls-cache', auth: 'edge' }],
    // Scheduled requests of the function's contract (tlsCacheScheduledRequestSchema).
    schedules: [
      {
        // The same rotation period and lifetime as the workers' YAML (worker-config.ts).
        key: 'ticketKeyRotation',
        input: (parameters) => ({
          op: 'ticket-keys',
          rotateEveryS: parameters.tlsCache.ticketRotateEverySeconds,
          lifetimeS: parameters.tlsCache.sessionTimeoutSeconds,
        }),
      },
      {
        // Everything that goes stale before the next run is refreshed now.
        key: 'ocspRefresh',
        input: (parameters) => ({
          op: 'ocsp-refresh',
          aheadS: Math.min(rateSeconds(parameters.schedules.ocspRefresh) ?? 3600, 86_400),
        }),
      },
    ],
    // Up to `concurrency` responders at once, each within its (capped) stapling timeout.
    timeoutSeconds: 60,
  },
  {
    name: 'ssh-host-keys',
    entry: 'functions/ssh-host-keys/http-handler.ts',
    handler: 'handler',
    description: 'SFTP backend host keys for ProxySFTPVerifyServer (trust on first use, pinned keys)',
    table: 'read-write',
    routes: [{ method: 'POST', path: '/v1/ssh-host-keys', auth: 'edge' }],
    schedules: [],
    timeoutSeconds: 10,
  },
  {
    name: 'abuse',
    entry: 'functions/abuse/http-handler.ts',
    handler: 'handler',
    description: 'Bans and connection-limit counts shared by every edge worker (mod_ban, MaxClients...)',
    table: 'read-write',
    routes: [{ method: 'POST', path: '/v1/abuse', auth: 'edge' }],
    schedules: [],
    timeoutSeconds: 10,
  },
  {
    // An EventBridge event is a scheduled run (healthCheckRequestSchema ignores its fields).
    name: 'health-check',
    entry: 'functions/health-check/handler.ts',
    handler: 'handler',
    description: 'Probes registered and discovered backends and records their health',
    table: 'read-write',
    routes: [],
    schedules: [{ key: 'healthCheck', input: () => ({ type: 'scheduled' }) }],
    timeoutSeconds: 60,
    environment: (parameters): Record<string, string> => {
      const networks = parameters.functions.healthCheckAllowNetworks;
      return networks.length > 0 ? { FTPX_HEALTH_CHECK_ALLOW_NETWORKS: networks.join(',') } : {};
    },
  },
  {
    // An EventBridge event is a scheduled refresh of the cached DNS answers that are due.
    name: 'discovery',
    entry: 'functions/discovery/handler.ts',
    handler: 'handler',
    description: 'Refreshes cached DNS answers of +srv / +txt backends before their TTLs run out',
    table: 'read-write',
    routes: [],
    schedules: [{ key: 'discoveryRefresh', input: () => ({ type: 'scheduled' }) }],
    timeoutSeconds: 60,
  },
];
