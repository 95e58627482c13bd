import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { identityHookFromEnv } from '../../functions/auth/handler.js';
import { discoverySettingsFromEnv, parseDnsServer } from '../../functions/core/discovery/index.js';
import { activeCheckOptionsFromEnv, healthSettingsFromEnv } from '../../functions/core/health/index.js';
import {
  MIN_SHARED_TOKEN_LENGTH,
  route53PublisherFromEnv,
  sharedTokenProblem,
} from '../../functions/core/registry/index.js';
import { isUnixSocketEndpoint } from '../../functions/core/store/index.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { isLoopbackHost } from '../admin/admin-server.js';
import { startControlPlaneServer } from '../control-plane/control-plane-server.js';
import { Logger, type LogLevel, stderrSink } from '../log/logger.js';
import { nonEmpty, UsageError, waitForStopSignal } from './usage.js';

/** `ftpx control-plane serve`: every control-plane function and the registry API on one port. */
export async function controlPlaneCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'serve') {
    throw new UsageError(
      sub === undefined
        ? 'control-plane needs a subcommand: serve'
        : `unknown control-plane subcommand "${sub}"`,
    );
  }
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      listen: { type: 'string' },
      'data-dir': { type: 'string' },
      'store-endpoint': { type: 'string' },
      table: { type: 'string' },
      region: { type: 'string' },
      'edge-token': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'log-level': { type: 'string' },
      'dns-server': { type: 'string', multiple: true },
    },
  });
  if (values.listen === undefined) throw new UsageError('control-plane serve needs --listen HOST:PORT');
  const listen = parseListen(values.listen);
  if (values['data-dir'] !== undefined && values['store-endpoint'] !== undefined) {
    throw new UsageError('give --data-dir (embedded store) or --store-endpoint, not both');
  }
  const storeEndpoint = values['store-endpoint'];
  if (
    storeEndpoint !== undefined &&
    !/^https?:\/\/[^\s]+$/.test(storeEndpoint) &&
    !isUnixSocketEndpoint(storeEndpoint)
  ) {
    throw new UsageError(`--store-endpoint must be an http:// or https:// URL (got "${storeEndpoint}")`);
  }
  const table = values.table ?? 'ftpx';
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
    throw new UsageError(`--table must be 3 to 255 letters, digits, "_", "-" or "." (got "${table}")`);
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) {
    throw new UsageError(`--log-level must be one of debug, info, warn, error (got "${logLevel}")`);
  }
  const edgeToken = values['edge-token'] ?? nonEmpty(process.env.FTPX_EDGE_TOKEN);
  const bootstrapToken = nonEmpty(process.env.FTPX_BOOTSTRAP_TOKEN);
  if (edgeToken === '') throw new UsageError('--edge-token must not be empty');
  // Without a token, whoever reaches the port resolves backends (with their credentials), asks
  // authenticate about any password and reads the TLS ticket keys: only loopback may go without.
  if (edgeToken === undefined && !isLoopbackHost(listen.host)) {
    throw new UsageError(
      `control-plane serve on ${values.listen} needs an edge token (--edge-token or FTPX_EDGE_TOKEN, at least ${MIN_SHARED_TOKEN_LENGTH} characters); without one it may only listen on loopback`,
    );
  }
  for (const [name, token] of [
    ['--edge-token (or FTPX_EDGE_TOKEN)', edgeToken],
    ['FTPX_BOOTSTRAP_TOKEN', bootstrapToken],
  ] as const) {
    const problem = token !== undefined ? sharedTokenProblem(name, token) : undefined;
    if (problem !== undefined) throw new UsageError(problem);
  }
  const tls = await readTlsFiles(values['tls-cert'], values['tls-key']);
  if (tls === undefined && !isLoopbackHost(listen.host)) {
    process.stderr.write(
      `ftpx: warning: the control plane on ${values.listen} speaks plain HTTP: tokens and backend credentials cross the network in clear (give --tls-cert and --tls-key)\n`,
    );
  }
  const log = new Logger(stderrSink(), logLevel);
  const identityHook = identityHookFromEnv();
  // The same variables the Lambda functions read (FTPX_DNS_*, FTPX_HEALTH_*, FTPX_ROUTE53_*).
  const discovery = discoverySettingsFromEnv();
  const dnsServers = values['dns-server'];
  if (dnsServers && dnsServers.length > 0) {
    // --dns-server replaces FTPX_DNS_SERVERS, as it replaces dns.servers for `serve`.
    discovery.servers = dnsServers.map((text) => {
      const parsed = parseDnsServer(text);
      if (!parsed.ok) throw new UsageError(`--dns-server ${parsed.error}`);
      return parsed.server;
    });
  }
  const checkInterval = nonEmpty(process.env.FTPX_HEALTH_CHECK_INTERVAL_MS);
  if (checkInterval !== undefined && !/^[1-9]\d*$/.test(checkInterval)) {
    throw new UsageError(
      `FTPX_HEALTH_CHECK_INTERVAL_MS must be a whole number of ms (got "${checkInterval}")`,
    );
  }
  const server = await startControlPlaneServer({
    listen,
    ...(storeEndpoint !== undefined ? { storeEndpoint } : { dataDir: values['data-dir'] ?? './data' }),
    tableName: table,
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(edgeToken !== undefined ? { edgeToken } : {}),
    ...(tls !== undefined ? { tls } : {}),
    // FTPX_IDENTITY_HOOK_URL (and _TIMEOUT_MS, _TOKEN, _SECRET, _CA): the same variables Lambda reads.
    ...(identityHook ? { identityHook } : {}),
    discovery,
    health: healthSettingsFromEnv(),
    ...(checkInterval !== undefined
      ? { activeChecks: { options: activeCheckOptionsFromEnv(), intervalMs: Number(checkInterval) } }
      : {}),
    registry: (store) =>
      createRegistryHandler({
        table: store,
        publisher: route53PublisherFromEnv(),
        ...(bootstrapToken !== undefined ? { bootstrapToken } : {}),
        log: ({ level, msg, ...fields }) =>
          log[isLogLevel(level) ? level : 'info'](typeof msg === 'string' ? msg : 'registry', fields),
      }),
    log,
  });
  process.stderr.write(`ftpx: control plane listening on ${server.url}\n`);
  await waitForStopSignal((signal) => log.info('shutting down', { signal }));
  await server.close();
  return 0;
}

/** `HOST:PORT`, `[IPv6]:PORT`; port 0 takes a free one. */
function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (got "${value}")`);
  }
  return { host, port };
}

function isLogLevel(value: unknown): value is LogLevel {
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error';
}

/** `--tls-cert` and `--tls-key` (PEM files), both or neither. */
async function readTlsFiles(
  certFile: string | undefined,
  keyFile: string | undefined,
): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError('give --tls-cert and --tls-key together');
  }
  const read = async (option: string, file: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new UsageError(`${option} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const tls = { cert: await read('--tls-cert', certFile), key: await read('--tls-key', keyFile) };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new UsageError(
      `--tls-cert ${certFile} / --tls-key ${keyFile}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return tls;
}
