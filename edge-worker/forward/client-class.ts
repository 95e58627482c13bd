import { type Cidr, inNetworks, parseCidrList } from '../../functions/core/net/index.js';

/** A `<Class>`: a named set of client networks, with what the class may do. */
export interface ClientClassConfig {
  name: string;
  /** `From` lines: networks in CIDR notation (a bare address is one host). */
  from: string[];
  /** ProxyForwardEnabled; absent means the class does not decide (the RFC 1918 default applies). */
  forwardEnabled?: boolean | undefined;
}

/** The private networks of RFC 1918: the only clients allowed to forward when no class says otherwise. */
export const RFC1918_NETWORKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;

export interface ForwardAccess {
  allowed: boolean;
  /** For the log: which rule decided. */
  reason: string;
  /** The client's class, when one matched. */
  className: string | undefined;
}

interface CompiledClass {
  config: ClientClassConfig;
  networks: Cidr[];
}

/**
 * The configured classes, in order: a client belongs to the first class one of whose networks holds
 * its address (ProFTPD matches classes by address the same way).
 */
export class ClientClasses {
  private readonly classes: CompiledClass[];

  constructor(configs: readonly ClientClassConfig[]) {
    this.classes = configs.map((config) => {
      const parsed = parseCidrList(config.from);
      // The config schema validated the lists; this guards against a caller that skipped it.
      if (!parsed.ok) throw new Error(`class "${config.name}": ${parsed.error}`);
      return { config, networks: parsed.cidrs };
    });
  }

  classify(address: string): ClientClassConfig | undefined {
    return this.classes.find((candidate) => inNetworks(address, candidate.networks))?.config;
  }

  /**
   * ProxyForwardEnabled (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyForwardEnabled): the client's class decides when it sets ProxyForwardEnabled; otherwise only
   * RFC 1918 clients may use forward proxying. Loopback (127.0.0.0/8, ::1) is not RFC 1918.
   */
  forwardAccess(address: string): ForwardAccess {
    const found = this.classify(address);
    if (found?.forwardEnabled !== undefined) {
      return {
        allowed: found.forwardEnabled,
        reason: `class "${found.name}" has ProxyForwardEnabled ${found.forwardEnabled ? 'on' : 'off'}`,
        className: found.name,
      };
    }
    const privateClient = inNetworks(address, RFC1918_NETWORKS);
    return {
      allowed: privateClient,
      reason: privateClient
        ? 'RFC 1918 client (allowed by default)'
        : `not an RFC 1918 address and no class with ProxyForwardEnabled on${found ? ` (class "${found.name}" does not set it)` : ''}`,
      className: found?.name,
    };
  }
}
