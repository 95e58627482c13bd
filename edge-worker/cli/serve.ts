import { parseArgs } from 'node:util';
import { parseDnsServer } from '../../functions/shared/discovery/dns-client.js';
import { type ConfigIssue, formatIssue } from '../config/config-error.js';
import { dnsConfigOf } from '../config/discovery-health.js';
import { loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/loaded-config.js';
import { controlPlaneSchema, controlPlaneUrlSchema, type FtpxConfig } from '../config/schema.js';
import { fileSink, Logger, type LogLevel, stderrSink } from '../log/logger.js';
import { startEdgeWorker } from '../runtime/edge-worker.js';
import { nonEmpty, UsageError, waitForStopSignal } from './usage.js';

/** `ftpx serve` and `ftpx check-config`. */

/** Options `serve` takes besides the config ones. */
const SERVE_OPTIONS = {
  'control-plane-url': { type: 'string' },
  'control-plane-token': { type: 'string' },
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
    'dns-server'?: string[];
  };
  return {
    file,
    kind,
    logLevel: logLevel as LogLevel | undefined,
    controlPlaneUrl: extraValues['control-plane-url'],
    controlPlaneToken: extraValues['control-plane-token'],
    dnsServers: extraValues['dns-server'],
  };
}

function printWarnings(warnings: ConfigIssue[]): void {
  for (const warning of warnings) process.stderr.write(`ftpx: warning: ${formatIssue(warning)}\n`);
}

export function checkConfig(args: string[]): number {
  const { file, kind } = parseConfigArgs(args, true);
  const loaded = loadConfig({ kind, file });
  printWarnings(loaded.warnings);
  const { config } = loaded;
  process.stdout.write(
    `${file}: OK (${config.listeners.length} listener(s), ${config.pools.length} pool(s), ${loaded.warnings.length} warning(s))\n`,
  );
  return 0;
}

export async function serve(args: string[]): Promise<number> {
  const options = parseConfigArgs(args, false, SERVE_OPTIONS);
  const { file, kind, logLevel } = options;
  const loaded: LoadedConfig = loadConfig({ kind, file });
  printWarnings(loaded.warnings);
  const config = withDnsServers(
    withControlPlaneOverrides(loaded.config, {
      url: options.controlPlaneUrl,
      token: options.controlPlaneToken,
      envToken: nonEmpty(process.env.FTPX_CONTROL_PLANE_TOKEN),
    }),
    options.dnsServers,
  );
  const sink = config.log.file ? fileSink(config.log.file) : stderrSink();
  const log = new Logger(sink, logLevel ?? config.log.level);
  const worker = await startEdgeWorker(config, log);
  for (const listener of worker.listeners) {
    process.stderr.write(`ftpx: listening on ${listener.address}:${listener.port} (pool ${listener.pool})\n`);
  }
  await waitForStopSignal((signal) => log.info('shutting down', { signal }));
  await worker.close();
  await sink.close?.();
  return 0;
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
 * `--control-plane-url` and `--control-plane-token` over the config's controlPlane. The token comes
 * from the option, else FTPX_CONTROL_PLANE_TOKEN, else controlPlane.token.
 */
function withControlPlaneOverrides(
  config: FtpxConfig,
  overrides: { url: string | undefined; token: string | undefined; envToken: string | undefined },
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
    if (overrides.token !== undefined) {
      throw new UsageError(
        '--control-plane-token needs --control-plane-url (or controlPlane.url in the config)',
      );
    }
    return config; // The in-process control plane, as before.
  }
  const token = overrides.token ?? overrides.envToken ?? config.controlPlane?.token;
  if (token === '') throw new UsageError('--control-plane-token must not be empty');
  const base = config.controlPlane ?? controlPlaneSchema.parse({});
  return { ...config, controlPlane: { ...base, url, ...(token !== undefined ? { token } : {}) } };
}
