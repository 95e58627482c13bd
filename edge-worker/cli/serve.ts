import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDnsServer } from '../../functions/core/discovery/index.js';
import { sharedTokenProblem } from '../../functions/core/registry/index.js';
import { isLoopbackHost, startAdminServer } from '../admin/admin-server.js';
import { localAdminSource } from '../admin/local-admin-source.js';
import { releaseYoungGeneration } from '../cluster/memory-settings.js';
import { type ConfigIssue, describeConfigFailure, formatIssue } from '../config/config-error.js';
import { dnsConfigOf } from '../config/discovery-health.js';
import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import type { ConfigSource } from '../config/loaded-config.js';
import {
  controlPlaneSchema,
  controlPlaneUrlSchema,
  type FtpxConfig,
  isPlainHttpToRemoteHost,
  lifecycleOf,
  listenAddressSchema,
  PLAIN_HTTP_CONTROL_PLANE_MESSAGE,
} from '../config/schema.js';
import { type LogLevel, silentLogger } from '../log/logger.js';
import { createServiceLogger } from '../log/service-logger.js';
import { loadPool } from '../reverse/pool.js';
import type { RunningEdgeWorker } from '../runtime/edge-worker.js';
import { handleLifecycleSignals } from '../runtime/signals.js';
import { startTracingFromEnv, stopTracing } from '../tracing/tracing-from-env.js';
import { resolveMasqueradeAddress, withMasqueradeAddress } from './masquerade-address.js';
import { nonEmpty, UsageError } from './usage.js';

/** `ftpx serve` and `ftpx check-config`. */

/** Options `serve` takes besides the config ones. */
const SERVE_OPTIONS = {
  'control-plane-url': { type: 'string' },
  'control-plane-token': { type: 'string' },
  /** CA certificates (PEM file) for an https control plane with a private CA. */
  'control-plane-ca': { type: 'string' },
  /** Accept a plain http:// control plane URL to a host that is not loopback. */
  'insecure-control-plane-http': { type: 'boolean' },
  'masquerade-address': { type: 'string' },
  check: { type: 'boolean' },
  'admin-listen': { type: 'string' },
  workers: { type: 'string' },
  'drain-timeout': { type: 'string' },
  /** DNS servers for +srv / +txt discovery (repeatable); replace the config's dns.servers. */
  'dns-server': { type: 'string', multiple: true },
} as const;

function parseConfigArgs(
  args: string[],
  allowPositional: boolean,
  extra: Partial<typeof SERVE_OPTIONS> = {},
) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: allowPositional,
    options: {
      config: { type: 'string' },
      'proftpd-conf': { type: 'string' },
      'log-level': { type: 'string' },
      ...extra,
    },
  });
  const given = [values.config, values['proftpd-conf'], ...positionals].filter(
    (value) => value !== undefined,
  );
  if (given.length !== 1)
    throw new UsageError('give exactly one config file: --config FILE or --proftpd-conf FILE');
  const file = given[0] as string;
  const kind: 'yaml' | 'proftpd' =
    values.config !== undefined
      ? 'yaml'
      : values['proftpd-conf'] !== undefined
        ? 'proftpd'
        : /\.(ya?ml|json)$/i.test(file)
          ? 'yaml'
          : 'proftpd';
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new UsageError(`--log-level must be one of debug, info, warn, error (got "${logLevel}")`);
  }
  const extraValues = values as {
    'control-plane-url'?: string;
    'control-plane-token'?: string;
    'control-plane-ca'?: string;
    'insecure-control-plane-http'?: boolean;
    'masquerade-address'?: string;
    check?: boolean;
    'admin-listen'?: string;
    workers?: string;
    'drain-timeout'?: string;
    'dns-server'?: string[];
  };
  return {
    file,
    kind,
    logLevel: logLevel as LogLevel | undefined,
    controlPlaneUrl: extraValues['control-plane-url'],
    controlPlaneToken: extraValues['control-plane-token'],
    controlPlaneCa: extraValues['control-plane-ca'],
    insecureControlPlaneHttp: extraValues['insecure-control-plane-http'] === true,
    masqueradeAddress: extraValues['masquerade-address'],
    check: extraValues.check === true,
    adminListen: extraValues['admin-listen'],
    workers: extraValues.workers,
    drainTimeout: extraValues['drain-timeout'],
    dnsServers: extraValues['dns-server'],
  };
}

function printWarnings(warnings: ConfigIssue[]): void {
  for (const warning of warnings) process.stderr.write(`ftpx: warning: ${formatIssue(warning)}\n`);
}

/**
 * What `check-config` and `serve --check` both do: read and validate the config, and read the static
 * backend lists (`file:`) the pools name, as starting would. Throws ConfigError; prints warnings.
 */
async function checkLoadedConfig(file: string, config: FtpxConfig, warnings: ConfigIssue[]): Promise<number> {
  printWarnings(warnings);
  for (const pool of config.pools) await loadPool(pool, silentLogger);
  process.stdout.write(
    `${file}: OK (${config.listeners.length} listener(s), ${config.pools.length} pool(s), ${warnings.length} warning(s))\n`,
  );
  return 0;
}

export function checkConfig(args: string[]): Promise<number> {
  const { file, kind } = parseConfigArgs(args, true);
  const loaded = loadConfig({ kind, file });
  return checkLoadedConfig(file, loaded.config, loaded.warnings);
}

type ServeOptions = ReturnType<typeof parseConfigArgs>;

/**
 * The config file plus the command line and environment overrides, validated. `masquerade` is
 * `--masquerade-address` as resolved once at start (resolveMasqueradeAddress).
 */
export function loadServeConfig(
  source: ConfigSource,
  options: ServeOptions,
  masquerade?: string,
): { config: FtpxConfig; warnings: ConfigIssue[] } {
  const loaded = loadConfig(source);
  let config = withControlPlaneOverrides(loaded.config, {
    url: options.controlPlaneUrl,
    token: options.controlPlaneToken,
    envToken: nonEmpty(process.env.FTPX_CONTROL_PLANE_TOKEN),
    ca: options.controlPlaneCa ?? nonEmpty(process.env.FTPX_CONTROL_PLANE_CA),
    insecureHttp: options.insecureControlPlaneHttp,
  });
  config = withMasqueradeAddress(withOperationOverrides(config, options), masquerade);
  config = withDnsServers(config, options.dnsServers);
  return { config, warnings: loaded.warnings };
}

export async function serve(args: string[]): Promise<number> {
  const options = parseConfigArgs(args, false, SERVE_OPTIONS);
  const source: ConfigSource = { kind: options.kind, file: options.file };
  if (options.check) {
    const { config, warnings } = loadServeConfig(source, options);
    return checkLoadedConfig(options.file, config, warnings);
  }
  const masquerade = await resolveMasqueradeAddress(options.masqueradeAddress);
  const { config, warnings } = loadServeConfig(source, options, masquerade);
  printWarnings(warnings);
  const wanted = lifecycleOf(config).workers;
  const workers = wanted === 'auto' ? availableParallelism() : wanted;
  if (workers > 1) {
    return (await import('../cluster/primary.js')).runClusterPrimary({
      config,
      workers,
      logLevel: options.logLevel,
      reloadConfig: () => {
        const next = loadServeConfig(source, options, masquerade);
        printWarnings(next.warnings);
        return next.config;
      },
    });
  }
  await startTracingFromEnv();
  return serveSingleProcess(config, options.logLevel, () => {
    const next = loadServeConfig(source, options, masquerade);
    printWarnings(next.warnings);
    return next.config;
  });
}

/** `--workers 1`: the edge worker, its admin endpoint and the signals, all in this process. */
async function serveSingleProcess(
  config: FtpxConfig,
  logLevel: LogLevel | undefined,
  reloadConfig: () => FtpxConfig,
): Promise<number> {
  // The edge worker loads here, not with this file: the primary of `--workers N` serves no FTP.
  const { DRAIN_DEADLINE_REPLY, startEdgeWorker } = await import('../runtime/edge-worker.js');
  const { log, close: closeLog } = createServiceLogger(config.log, logLevel);
  // The admin endpoint first: load balancers see /readyz answer 503 until the listeners are up.
  let running: RunningEdgeWorker | undefined;
  const adminListen = config.admin?.listen;
  const admin = adminListen
    ? await startAdminServer({
        ...adminListen,
        ...(config.admin?.token !== undefined ? { token: config.admin.token } : {}),
        source: localAdminSource(() => running),
        log: log.child({ component: 'admin' }),
      })
    : undefined;
  if (admin) process.stderr.write(`ftpx: admin endpoint on ${admin.url}\n`);
  const worker = await startEdgeWorker(config, log).catch(async (err: unknown) => {
    await admin?.close();
    throw err;
  });
  running = worker;
  for (const listener of worker.listeners) {
    process.stderr.write(`ftpx: listening on ${listener.address}:${listener.port} (pool ${listener.pool})\n`);
  }
  releaseYoungGeneration();
  const signals = handleLifecycleSignals({
    reload: async () => {
      try {
        const { notApplied } = await worker.reload(reloadConfig());
        log.info('configuration reloaded', {
          listeners: worker.listeners.map((l) => `${l.address}:${l.port}`),
          ...(notApplied.length > 0 ? { notApplied, note: 'these settings need a restart' } : {}),
        });
      } catch (err) {
        worker.metrics.reloads.inc({ result: 'rejected' });
        log.error('configuration reload rejected; the running configuration stays', {
          errors: describeConfigFailure(err),
        });
      }
    },
    stop: async (signal) => {
      log.info('draining', {
        signal,
        deadlineMs: lifecycleOf(config).drainTimeout,
        sessions: worker.sessions.size,
      });
      const { closedAtDeadline } = await worker.drain(lifecycleOf(config).drainTimeout);
      log.info('stopped', { closedAtDeadline });
      await admin?.close();
    },
    hurry: (signal) => {
      log.info('second stop signal: closing every session now', { signal });
      worker.sessions.closeAll(DRAIN_DEADLINE_REPLY);
    },
  });
  await signals.stopped;
  signals.dispose();
  await stopTracing();
  await closeLog();
  return 0;
}

/** `--admin-listen`, FTPX_ADMIN_TOKEN, `--workers` and `--drain-timeout` over the config's keys. */
function withOperationOverrides(config: FtpxConfig, options: ServeOptions): FtpxConfig {
  let admin = config.admin ?? {};
  let lifecycle = lifecycleOf(config);
  if (options.adminListen !== undefined) {
    const parsed = listenAddressSchema.safeParse(options.adminListen);
    if (!parsed.success) throw new UsageError(`--admin-listen: ${parsed.error.issues[0]?.message}`);
    admin = { ...admin, listen: parsed.data };
  }
  const envToken = nonEmpty(process.env.FTPX_ADMIN_TOKEN);
  if (envToken !== undefined) {
    const problem = sharedTokenProblem('FTPX_ADMIN_TOKEN', envToken);
    if (problem !== undefined) throw new UsageError(problem);
    admin = { ...admin, token: envToken };
  }
  if (admin.listen && admin.token === undefined && !isLoopbackHost(admin.listen.host)) {
    throw new UsageError(
      `the admin endpoint on ${admin.listen.host} needs a token (admin.token or FTPX_ADMIN_TOKEN); without one it may only listen on loopback`,
    );
  }
  if (options.workers !== undefined) {
    const workers = options.workers === 'auto' ? 'auto' : Number(options.workers);
    if (workers !== 'auto' && !(Number.isInteger(workers) && workers >= 1 && workers <= 256)) {
      throw new UsageError(`--workers must be a number from 1 to 256 or "auto" (got "${options.workers}")`);
    }
    lifecycle = { ...lifecycle, workers };
  }
  if (options.drainTimeout !== undefined) {
    const ms = parseDuration(options.drainTimeout);
    if (ms === undefined)
      throw new UsageError(`--drain-timeout is not a duration (got "${options.drainTimeout}")`);
    lifecycle = { ...lifecycle, drainTimeout: ms };
  }
  return { ...config, admin, lifecycle };
}

/** `--dns-server HOST:PORT` (repeatable) replaces the config's dns.servers. */
function withDnsServers(config: FtpxConfig, servers: string[] | undefined): FtpxConfig {
  if (!servers || servers.length === 0) return config;
  for (const server of servers) {
    const parsed = parseDnsServer(server);
    if (!parsed.ok) throw new UsageError(`--dns-server ${parsed.error}`);
  }
  return { ...config, dns: { ...dnsConfigOf(config), servers } };
}

/**
 * `--control-plane-url`, `--control-plane-token`, `--control-plane-ca` and
 * `--insecure-control-plane-http` over the config's controlPlane. The token comes from the option,
 * else FTPX_CONTROL_PLANE_TOKEN, else controlPlane.token; the CA from the option, else
 * FTPX_CONTROL_PLANE_CA, else controlPlane.ca. Everything is checked here, before any connection.
 */
function withControlPlaneOverrides(
  config: FtpxConfig,
  overrides: {
    url: string | undefined;
    token: string | undefined;
    envToken: string | undefined;
    ca: string | undefined;
    insecureHttp: boolean;
  },
): FtpxConfig {
  let url = config.controlPlane?.url;
  if (overrides.url !== undefined) {
    const parsed = controlPlaneUrlSchema.safeParse(overrides.url);
    if (!parsed.success) {
      throw new UsageError(`--control-plane-url ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
    }
    url = parsed.data;
  }
  if (url === undefined) {
    for (const [given, option] of [
      [overrides.token, '--control-plane-token'],
      [overrides.ca, '--control-plane-ca (or FTPX_CONTROL_PLANE_CA)'],
    ] as const) {
      if (given !== undefined) {
        throw new UsageError(`${option} needs --control-plane-url (or controlPlane.url in the config)`);
      }
    }
    return config; // The in-process control plane, as before.
  }
  const token = overrides.token ?? overrides.envToken ?? config.controlPlane?.token;
  if (token === '') throw new UsageError('--control-plane-token must not be empty');
  if (token !== undefined) {
    const problem = sharedTokenProblem('the control plane token', token);
    if (problem !== undefined) throw new UsageError(problem);
  }
  if (token !== undefined && config.controlPlane?.signing) {
    throw new UsageError('controlPlane.signing and a control plane token exclude each other');
  }
  const insecureHttp = overrides.insecureHttp || config.controlPlane?.insecureHttp === true;
  if (!insecureHttp && isPlainHttpToRemoteHost(url)) {
    throw new UsageError(
      `the control plane URL ${url} ${PLAIN_HTTP_CONTROL_PLANE_MESSAGE}; or give --insecure-control-plane-http (or controlPlane.insecureHttp: true) if the network is trusted`,
    );
  }
  const ca = overrides.ca ?? config.controlPlane?.ca;
  if (ca !== undefined && !url.startsWith('https:')) {
    throw new UsageError(`--control-plane-ca needs an https:// control plane URL (got ${url})`);
  }
  const base = config.controlPlane ?? controlPlaneSchema.parse({});
  return {
    ...config,
    controlPlane: {
      ...base,
      url,
      insecureHttp,
      ...(token !== undefined ? { token } : {}),
      ...(ca !== undefined ? { ca } : {}),
    },
  };
}
