import type { DiscoverySettings } from './discovery-settings.js';
import { parseDnsServer } from './dns-client.js';

/** Discovery settings from a function's environment (Lambda); unset variables keep the defaults. */
export function discoverySettingsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<DiscoverySettings> {
  const settings: Partial<DiscoverySettings> = {};
  const servers = env.FTPX_DNS_SERVERS?.split(',')
    .map((text) => text.trim())
    .filter((text) => text !== '');
  if (servers && servers.length > 0) {
    settings.servers = servers.map((text) => {
      const parsed = parseDnsServer(text);
      if (!parsed.ok) throw new Error(`FTPX_DNS_SERVERS: ${parsed.error}`);
      return parsed.server;
    });
  }
  const number = (name: string) => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`${name}: "${text}" is not a non-negative number`);
    return value;
  };
  const timeoutMs = number('FTPX_DNS_TIMEOUT_MS');
  if (timeoutMs !== undefined) settings.timeoutMs = timeoutMs;
  const minTtl = number('FTPX_DNS_MIN_TTL_SECONDS');
  if (minTtl !== undefined) settings.minTtlSeconds = minTtl;
  const maxTtl = number('FTPX_DNS_MAX_TTL_SECONDS');
  if (maxTtl !== undefined) settings.maxTtlSeconds = maxTtl;
  const negativeTtl = number('FTPX_DNS_NEGATIVE_TTL_SECONDS');
  if (negativeTtl !== undefined) settings.negativeTtlSeconds = negativeTtl;
  return settings;
}
