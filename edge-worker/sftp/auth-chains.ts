/** The client authentication methods an sftp listener can take (SFTPAuthMethods). */
export const CLIENT_AUTH_METHODS = ['password', 'keyboard-interactive', 'publickey', 'hostbased'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/**
 * Why an SFTPAuthMethods entry (`publickey`, or a chain `publickey+password`) is not usable, or
 * undefined when it is. mod_sftp: each entry is one way to log in; a chain's methods must all
 * succeed, in that order (http://www.proftpd.org/docs/contrib/mod_sftp.html#SFTPAuthMethods).
 */
export function authChainProblem(entry: string): string | undefined {
  const methods = entry.split('+');
  for (const method of methods) {
    if (!(CLIENT_AUTH_METHODS as readonly string[]).includes(method)) {
      return `"${method}" is not an authentication method ftpx takes (known: ${CLIENT_AUTH_METHODS.join(', ')})`;
    }
  }
  if (new Set(methods).size !== methods.length) return `"${entry}" names a method twice`;
  return undefined;
}

/**
 * The SFTPAuthMethods chains of one listener, as far as a session's client has followed them.
 * A client that completes any chain has authenticated (as far as the proxy's own rules go: the
 * backend may still ask for more, see ssh-server-session.ts).
 */
export class AuthChains {
  private readonly chains: ClientAuthMethod[][];
  private readonly done: ClientAuthMethod[] = [];

  /** `entries` as configured; chains with a method `usable` refuses are dropped whole. */
  constructor(entries: readonly string[], usable: (method: ClientAuthMethod) => boolean) {
    this.chains = entries
      .map((entry) => entry.split('+') as ClientAuthMethod[])
      .filter((chain) => chain.every(usable));
  }

  /** Methods passed so far, in order. */
  get passed(): readonly ClientAuthMethod[] {
    return this.done;
  }

  /** The methods that may come next (what USERAUTH_FAILURE lists), in configuration order. */
  next(): ClientAuthMethod[] {
    const next = new Set<ClientAuthMethod>();
    for (const chain of this.following()) {
      const method = chain[this.done.length];
      if (method) next.add(method);
    }
    return [...next];
  }

  /** Whether `method` after the passed ones would complete a chain. */
  completes(method: ClientAuthMethod): boolean {
    const length = this.done.length + 1;
    return this.following().some((chain) => chain.length === length && chain[length - 1] === method);
  }

  /** Whether the passed methods are a whole chain. */
  get complete(): boolean {
    return this.following().some((chain) => chain.length === this.done.length);
  }

  /** Records a passed method (one of next()). */
  pass(method: ClientAuthMethod): void {
    this.done.push(method);
  }

  /** The chains whose first methods are the passed ones. */
  private following(): ClientAuthMethod[][] {
    return this.chains.filter(
      (chain) => chain.length >= this.done.length && this.done.every((method, i) => chain[i] === method),
    );
  }
}
