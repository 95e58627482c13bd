import { DestinationPolicy, parseAllowNetworks } from '../../functions/core/net/index.js';
import type { PoolConfig } from '../config/schema.js';
import { type FtpReply, localReply } from '../ftp/control/reply.js';
import type { Logger } from '../log/logger.js';
import { type Destination, formatHostPort, IMPLICIT_FTPS_PORT, parseDestination } from './destination.js';
import { FORWARD_REFUSED_TEXT } from './forward-connect.js';
import { compileForwardTo, describeForwardTo } from './forward-to.js';
import type { LoopGuard } from './loop-guard.js';

export type DestinationCheck =
  | { ok: true; destination: Destination }
  | { ok: false; reply: FtpReply; reason: string };

/**
 * Where a forward pool may send its clients: ProxyForwardTo
 * (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyForwardTo) on the destination as named and
 * on each address it resolves to, and the destination address policy (net/destination-policy.ts).
 */
export class DestinationAccess {
  /** The address policy connectDestination applies to every resolved address. */
  readonly policy: DestinationPolicy;
  private readonly allows: (hostPort: string) => boolean;

  constructor(
    private readonly pool: PoolConfig,
    loopGuard: LoopGuard,
  ) {
    const rule = pool.forward?.to;
    const compiled = rule ? compileForwardTo(rule) : undefined;
    // The config schema compiled the rule already; this guards against a caller that skipped it.
    if (compiled && !compiled.ok) throw new Error(compiled.error);
    this.allows = compiled?.ok ? compiled.test : () => true;
    this.policy = new DestinationPolicy({
      allowNetworks: parseAllowNetworks(pool.allowDestinationNetworks ?? []),
      ownAddresses: () => loopGuard.ownAddresses(),
    });
  }

  /**
   * The destination text after `@` (or the SNI name): parsed (ProxyForwardMethod), then refused when it
   * does not pass ProxyForwardTo, or is implicit FTPS (port 990) while the pool's tls.engine is off.
   */
  check(text: string, backendTls: boolean, log: Logger): DestinationCheck {
    const parsed = parseDestination(text);
    if (!parsed.ok) {
      return {
        ok: false,
        reply: localReply(530, `Login incorrect: bad destination: ${parsed.error}.`),
        reason: `bad destination: ${parsed.error}`,
      };
    }
    const { destination } = parsed;
    const rule = this.pool.forward?.to;
    if (rule && !this.allows(destination.hostPort)) {
      const reason = `host/port ${destination.hostPort} did not match ProxyForwardTo ${describeForwardTo(rule)}`;
      log.warn('forward destination refused', { reason });
      return { ok: false, reply: localReply(530, FORWARD_REFUSED_TEXT), reason };
    }
    if (destination.port === IMPLICIT_FTPS_PORT && !backendTls) {
      return {
        ok: false,
        reply: localReply(
          530,
          `Unable to connect to ${destination.hostPort}: port ${IMPLICIT_FTPS_PORT} is implicit FTPS, and this proxy's tls.engine (ProxyTLSEngine) is off`,
        ),
        reason: 'implicit FTPS destination (port 990) with tls.engine off',
      };
    }
    return { ok: true, destination };
  }

  /**
   * ProxyForwardTo on a resolved address, written `address:port` (`[v6]:port`): a negated rule must
   * pass for it as it did for the name typed (so `!^127\.` also refuses `2130706433`); a positive
   * rule that matches it is the explicit permission loopback and private addresses need.
   */
  addressRule(address: string, port: number): { allowed: boolean; explicit: boolean; reason?: string } {
    const rule = this.pool.forward?.to;
    if (!rule) return { allowed: true, explicit: false };
    const hostPort = formatHostPort(address, port);
    const passes = this.allows(hostPort);
    if (rule.negate && !passes) {
      return {
        allowed: false,
        explicit: false,
        reason: `resolved address ${hostPort} did not match ProxyForwardTo ${describeForwardTo(rule)}`,
      };
    }
    return { allowed: true, explicit: !rule.negate && passes };
  }
}
