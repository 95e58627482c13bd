import type { DiscoverySettings } from '../../functions/core/discovery/index.js';
import { parseDnsServer } from '../../functions/core/discovery/index.js';
import type { ActiveCheckOptions } from '../../functions/core/health/index.js';
import { type HealthSettings, healthSettings } from '../../functions/core/health/index.js';
import { dnsConfigOf, healthConfigOf } from '../config/discovery-health.js';
import type { FtpxConfig } from '../config/schema.js';

/** The config's `dns` block as the discovery functions take it. */
export function discoverySettingsOf(config: FtpxConfig): Partial<DiscoverySettings> {
  const dns = dnsConfigOf(config);
  return {
    servers: dns.servers.flatMap((text) => {
      const parsed = parseDnsServer(text);
      return parsed.ok ? [parsed.server] : [];
    }),
    timeoutMs: dns.timeout,
    minTtlSeconds: dns.minTtl / 1000,
    maxTtlSeconds: dns.maxTtl / 1000,
    negativeTtlSeconds: dns.negativeTtl / 1000,
  };
}

/** The config's `health` block as resolve-backend and session-events take it. */
export function healthSettingsOf(config: FtpxConfig): HealthSettings {
  const { passive, whenAllUnhealthy, active } = healthConfigOf(config);
  return healthSettings({
    passive: {
      enabled: passive.enabled,
      failures: passive.failures,
      windowMs: passive.window,
      cooldownMs: passive.cooldown,
    },
    whenAllUnhealthy,
    activeFailureHoldMs: active.hold,
  });
}

/** The config's `health.active` block as the health-check function takes it. */
export function activeCheckOptionsOf(config: FtpxConfig): ActiveCheckOptions {
  const { active } = healthConfigOf(config);
  return {
    timeoutMs: active.timeout,
    check: active.ftp.check,
    ...(active.ftp.user !== undefined ? { user: active.ftp.user } : {}),
    ...(active.ftp.password !== undefined ? { password: active.ftp.password } : {}),
    allowUntrustedCertificates: active.allowUntrustedCertificates,
    certificateExpiryWarningDays: active.certificateExpiryWarningDays,
  };
}
