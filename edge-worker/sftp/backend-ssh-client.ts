import { type Socket, connect as tcpConnect } from 'node:net';
import ssh2, { type AnyAuthMethod, type AuthenticationType, type ConnectConfig } from 'ssh2';
import type { BackendUrl } from '../../functions/core/backend-url.js';
import { useFastGroupExchange } from './ssh2-group-exchange.js';
import { withoutKexExtensions } from './ssh2-kexinit-offer.js';

/** One connect attempt to an SSH backend failed: refused, timed out, key exchange or host key refused. */
export class BackendSshConnectError extends Error {
  override readonly name = 'BackendSshConnectError';
}

/** The answer to one authentication attempt relayed to the backend. */
export type BackendAuthResult =
  | { ok: true }
  | { ok: false; methodsLeft: AuthenticationType[]; partialSuccess: boolean }
  /** The backend closed or failed: no more attempts are possible on this connection. */
  | { ok: false; closed: true; reason: string };

export interface BackendSshOptions {
  timeoutMs: number;
  sourceAddress?: string | undefined;
  algorithms: ConnectConfig['algorithms'];
  keepaliveInterval?: number | undefined;
  keepaliveCountMax?: number | undefined;
  ident: string;
  /**
   * Judges the backend's host key (ProxySFTPVerifyServer); resolving false refuses the connection.
   * Called during key exchange, before any credentials are sent.
   */
  verifyHostKey?: ((key: Buffer) => Promise<boolean>) | undefined;
  /** USERAUTH_BANNER messages from the backend. */
  onBanner?: ((message: string) => void) | undefined;
  /** Each key re-exchange after the first (either side may start one). */
  onRekey?: (() => void) | undefined;
  /** ssh2's debug lines (the proxy.ssh.* trace channels, log/ssh-trace.ts); absent when none is traced. */
  debug?: ((line: string) => void) | undefined;
  /**
   * Bytes to send before SSH's own identification (the PROXY protocol header, ProxyOptions
   * UseProxyProtocolV1/V2), given the backend address the socket connected to.
   */
  prelude?: ((backendAddress: string) => Buffer | undefined) | undefined;
  /** ProxySFTPOptions NoExtensionNegotiation / NoStrictKex: leave ext-info-c / strict KEX out of the offer. */
  leaveOut?: { extensionNegotiation: boolean; strictKex: boolean } | undefined;
}

type AuthNext = (method: AnyAuthMethod | false) => void;

/**
 * The backend leg of an SSH session: an ssh2 Client whose authentication is driven from outside,
 * one relayed attempt at a time. `connect` resolves when the backend's transport is up and it waits
 * for the first authentication request (so key exchange and host key checks count as connecting,
 * and a failure there lets the connect policy try another backend).
 */
export class BackendSsh {
  readonly client = new ssh2.Client();
  connectMs = 0;
  /** The backend's software version ("OpenSSH_9.2p1 ..."), once known. */
  serverVersion = '';
  private next: AuthNext | undefined;
  private pending: ((result: BackendAuthResult) => void) | undefined;
  private closedReason: string | undefined;
  private authenticated = false;
  /** end() was called or connecting failed: ssh2's transport may be torn down. */
  private ended = false;
  /** Destroys a socket connected before ssh2 got it (a PROXY header was to go first). */
  private abandon: (() => void) | undefined;

  constructor(
    readonly url: BackendUrl,
    private readonly options: BackendSshOptions,
  ) {}

  connect(): Promise<this> {
    const started = performance.now();
    const { client, options } = this;
    return new Promise<this>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.ended = true;
        client.end();
        this.abandon?.();
        reject(new BackendSshConnectError(reason, { cause }));
      };
      const timer = setTimeout(
        () => fail(`SSH connect timed out after ${options.timeoutMs} ms`),
        options.timeoutMs,
      );
      client.on('error', (err) => {
        this.ended = true;
        this.closedReason ??= err.message;
        fail(err.message, err);
        this.finishAttempt({ ok: false, closed: true, reason: err.message });
      });
      client.on('close', () => {
        this.ended = true;
        this.closedReason ??= 'the backend closed the connection';
        fail(this.closedReason);
        this.finishAttempt({ ok: false, closed: true, reason: this.closedReason });
      });
      client.on('banner', (message) => options.onBanner?.(message));
      let handshakes = 0;
      client.on('handshake', () => {
        handshakes += 1;
        if (handshakes > 1) options.onRekey?.();
      });
      client.on('ready', () => {
        this.authenticated = true;
        this.finishAttempt({ ok: true });
      });
      const config: ConnectConfig = {
        host: this.url.host,
        port: this.url.port,
        // Each attempt names its own user; this one is never sent.
        username: '',
        // The handshake is bounded by the timer above; authentication by the frontend's login timeout.
        readyTimeout: 0,
        algorithms: options.algorithms,
        ident: options.ident,
        ...(options.debug ? { debug: options.debug } : {}),
        ...(options.sourceAddress ? { localAddress: options.sourceAddress } : {}),
        ...(options.keepaliveInterval ? { keepaliveInterval: options.keepaliveInterval } : {}),
        ...(options.keepaliveCountMax !== undefined ? { keepaliveCountMax: options.keepaliveCountMax } : {}),
        authHandler: (methodsLeft, partialSuccess, next) => {
          this.next = next as AuthNext;
          this.serverVersion = (client as unknown as { _remoteVer?: string })._remoteVer ?? '';
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            this.connectMs = Math.round(performance.now() - started);
            resolve(this);
            return;
          }
          this.finishAttempt({
            ok: false,
            methodsLeft: (methodsLeft ?? []) as AuthenticationType[],
            partialSuccess: partialSuccess ?? false,
          });
        },
      };
      const verify = options.verifyHostKey;
      if (verify) {
        let verified: Buffer | undefined;
        config.hostVerifier = (key: Buffer, callback: (valid: boolean) => void) => {
          // A rekey presents the same key again: answered at once, so that no gap opens in the
          // middle of the key exchange (ssh2 lets channel data out during an asynchronous check).
          if (verified?.equals(key)) return true;
          const answer = (valid: boolean) => {
            if (valid) verified = key;
            // The connection may be gone by now (timed out, the backend hung up, the session ended):
            // ssh2 then answers on a torn-down transport and throws ("protocol._destruct is not a
            // function", mscdex/ssh2 deny path), which from a promise callback would end the process.
            if (this.ended) return;
            try {
              callback(valid);
            } catch (err) {
              fail('the backend host key check ended on a closed connection', err);
            }
          };
          verify(key).then(answer, () => answer(false));
          return undefined;
        };
      }
      const start = (sock?: Socket) => {
        client.connect(sock ? { ...config, sock } : config);
        // ssh2's group exchange tests the server's prime synchronously (minutes for 8192 bits).
        useFastGroupExchange(client);
        const leaveOut = options.leaveOut;
        if (leaveOut && !withoutKexExtensions(client, leaveOut)) {
          fail('ProxySFTPOptions NoExtensionNegotiation/NoStrictKex: ssh2 internals changed, cannot apply');
        }
      };
      const prelude = options.prelude;
      if (!prelude) {
        start();
        return;
      }
      // The header goes first on the wire, before ssh2 sends its identification: ftpx connects the
      // socket, writes it, and hands the connected socket to ssh2.
      const sock = tcpConnect({
        host: this.url.host,
        port: this.url.port,
        ...(options.sourceAddress ? { localAddress: options.sourceAddress } : {}),
      });
      const early = (err: Error) => fail(err.message, err);
      sock.once('error', early);
      sock.once('close', () => fail('the backend closed the connection'));
      this.abandon = () => sock.destroy();
      sock.once('connect', () => {
        sock.removeListener('error', early);
        sock.removeAllListeners('close');
        const header = prelude(sock.remoteAddress ?? this.url.host);
        if (header) sock.write(header);
        start(sock);
      });
    });
  }

  /** Sends one authentication request and waits for the backend's answer. */
  attempt(method: AnyAuthMethod): Promise<BackendAuthResult> {
    if (this.closedReason !== undefined) {
      return Promise.resolve({ ok: false, closed: true, reason: this.closedReason });
    }
    const next = this.next;
    if (!next || this.pending || this.authenticated) {
      return Promise.reject(new Error('backend authentication is not waiting for an attempt'));
    }
    this.next = undefined;
    return new Promise((resolve) => {
      this.pending = resolve;
      next(method);
    });
  }

  private finishAttempt(result: BackendAuthResult): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.(result);
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  end(): void {
    this.ended = true;
    this.client.end();
  }
}
