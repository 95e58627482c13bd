import { lookup } from 'node:dns/promises';
import { connect, isIP, type Socket } from 'node:net';
import type { BackendUrl } from '../../../functions/core/backend-url.js';
import type { Logger } from '../../log/logger.js';
import { withTimeout } from '../../net/with-timeout.js';
import type { BackendTls } from '../../tls/backend-tls-context.js';
import {
  type BackendControlTls,
  type BackendTlsMode,
  negotiateBackendTls,
  setBackendProtection,
  startBackendControlTls,
} from '../tls/backend-tls.js';
import { BackendControl, describeReply, parseFeatures } from './backend-control.js';
import { type FtpReply, isSuccess } from './reply.js';

/** One connect attempt to one backend failed: refused, timed out, or greeted with a non-2xx banner. */
export class BackendConnectError extends Error {
  override readonly name = 'BackendConnectError';
}

export interface ConnectedBackend {
  control: BackendControl;
  banner: FtpReply;
  address: string;
  connectMs: number;
}

export interface ConnectOptions {
  timeoutMs: number;
  /**
   * The addresses to connect to, already resolved and checked (a registered backend's, by the
   * destination policy): url.host is then only the TLS name, never resolved again.
   */
  addresses?: readonly string[];
  sourceAddress?: string;
  /** The session's logger, for the trace channels (proxy.conn, proxy.ftp.ctrl). */
  log?: Logger;
  /** Bytes to send first, before the banner is read: a PROXY protocol header for this address. */
  prelude?: (backendAddress: string) => Buffer | undefined;
  /** Backend FTPS: the pool's TLS client and what to do with it for this backend (off when absent). */
  tls?: {
    client: BackendTls;
    mode: BackendTlsMode;
    /** The backend's key, under which its TLS sessions are cached. */
    key: string;
    /** PROT to send after AUTH TLS or the implicit handshake. */
    prot: 'P' | 'C';
    log: Logger;
    /**
     * The name the handshake sends as SNI and verifies, when the URL's host is an address of it
     * (forward mode resolves the destination itself and connects by address); url.host when absent.
     */
    serverName?: string;
  };
}

const timedOut = (what: string) => (): never => {
  throw new BackendConnectError(`${what} timed out`);
};

/**
 * Connects to a backend the way mod_proxy does: every address the name resolves to is tried in turn,
 * the whole attempt (TCP connect and banner) is bounded by the connect timeout, and only a 2xx banner
 * counts as connected. Then FEAT is asked once, to learn what the backend supports. Its answer is not
 * waited for: replies come in order, so it lands before the reply to anything the client sends next,
 * and the client's login does not pay for one more round trip to the backend.
 */
export async function connectBackend(url: BackendUrl, options: ConnectOptions): Promise<ConnectedBackend> {
  const started = performance.now();
  const deadline = Date.now() + options.timeoutMs;
  const addresses = options.addresses
    ? options.addresses
    : isIP(url.host)
      ? [url.host]
      : await lookup(url.host, { all: true }).then(
          (results) => results.map((result) => result.address),
          (err: Error) => {
            throw new BackendConnectError(`cannot resolve ${url.host}: ${err.message}`, { cause: err });
          },
        );
  // Made only when every address failed: an Error captures a stack, which every login would pay.
  let lastError: Error | undefined;
  const tlsUrl = options.tls?.serverName ? { ...url, host: options.tls.serverName } : url;
  for (const address of addresses) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const { control, banner, preludeFeat } = await openControl(
        address,
        url.port,
        remaining,
        options.sourceAddress,
        options.log,
        options.prelude?.(address),
        options.tls?.mode === 'implicit'
          ? (socket) => {
              const tls = options.tls as NonNullable<ConnectOptions['tls']>;
              return startBackendControlTls(socket, tls.client, tlsUrl, tls.key, tls.log);
            }
          : undefined,
      );
      const tls = options.tls;
      if (tls && tls.mode === 'implicit') {
        await withTimeout(
          (async () => {
            await setBackendProtection(control, tls.prot);
          })(),
          Math.max(deadline - Date.now(), 1),
          timedOut(`PBSZ/PROT with ${address}:${url.port}`),
        ).catch((err: unknown) => {
          control.destroy();
          throw err;
        });
      } else if (tls && (tls.mode === 'required' || tls.mode === 'try')) {
        const mode = tls.mode;
        await negotiateBackendTls(control, tls.client, tlsUrl, tls.key, mode, tls.prot, tls.log).catch(
          (err: unknown) => {
            control.destroy();
            throw new BackendConnectError(
              `${address}:${url.port}: ${err instanceof Error ? err.message : String(err)}`,
              { cause: err },
            );
          },
        );
      }
      const connectMs = Math.round(performance.now() - started);
      // Asked again over TLS: a backend may announce other features there.
      const feat = preludeFeat && (!tls || tls.mode === 'off') ? preludeFeat : control.command('FEAT');
      control.featuresReady = feat.then(
        (reply) => {
          if (reply) control.features = parseFeatures(reply);
        },
        // FEAT is advisory: a backend that wants a login first still works, without its feature list.
        () => {},
      );
      return { control, banner, address, connectMs };
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
    }
  }
  if (lastError === undefined) throw new BackendConnectError(`${url.host} has no addresses`);
  throw lastError instanceof BackendConnectError
    ? lastError
    : new BackendConnectError(lastError.message, { cause: lastError });
}

async function openControl(
  host: string,
  port: number,
  timeoutMs: number,
  localAddress: string | undefined,
  log: Logger | undefined,
  prelude: Buffer | undefined,
  /** Implicit FTPS: TLS on the TCP connection, before the banner. */
  secure?: (socket: Socket) => Promise<BackendControlTls>,
): Promise<{ control: BackendControl; banner: FtpReply; preludeFeat?: Promise<FtpReply | undefined> }> {
  const socket: Socket = connect({ host, port, ...(localAddress ? { localAddress } : {}), noDelay: true });
  const control = new BackendControl(socket);
  control.log = log;
  log?.trace('proxy.conn', 12, () => `connecting to backend address ${host}#${port}`);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => {
          log?.trace(
            'proxy.conn',
            5,
            () => `successfully connected to ${host}#${port} from ${socket.localAddress}#${socket.localPort}`,
          );
          if (prelude) {
            log?.trace('proxy.conn', 9, () => describeProxyHeader(prelude));
            socket.write(prelude);
          }
          resolve();
        });
        control.lost.then(reject);
      }),
      timeoutMs,
      timedOut(`connect to ${host}:${port}`),
    );
    if (secure) {
      const raw = control.detachSocket();
      const tls = await withTimeout(secure(raw), timeoutMs, timedOut(`TLS handshake with ${host}:${port}`));
      control.attachSocket(tls.socket);
      control.tls = tls;
    }
    const banner = await withTimeout(
      control.expectReply(),
      timeoutMs,
      timedOut(`banner from ${host}:${port}`),
    );
    if (!isSuccess(banner) || banner.code >= 300) {
      throw new BackendConnectError(`${host}:${port} greeted with ${describeReply(banner)}`);
    }
    // Over implicit TLS a backend that does not speak the PROXY protocol fails the handshake instead.
    if (prelude && !secure) {
      const absorbed = absorbPreludeReply(control);
      // Nothing else is sent before NOOP's turn is over: a later command's reply must not be NOOP's.
      await withTimeout(
        absorbed.settled,
        timeoutMs,
        timedOut(`NOOP after the PROXY header to ${host}:${port}`),
      );
      return { control, banner, preludeFeat: absorbed.feat };
    }
    return { control, banner };
  } catch (err) {
    control.destroy();
    throw err instanceof BackendConnectError
      ? err
      : new BackendConnectError(`${host}:${port}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
  }
}

/** How long NOOP's reply is waited for once the replies before it are in (see absorbPreludeReply). */
const PRELUDE_NOOP_WAIT_MS = 1500;

/**
 * A backend that does not speak the PROXY protocol reads the header as a command and answers it,
 * after its banner, with an error (ProFTPD `500 PROXY not understood`, vsftpd `530 Please login with
 * USER and PASS.`): one reply more than was asked for, which would otherwise be taken as the answer
 * to the next command and put every later reply out of step (mod_proxy's own code notes this for its
 * FEAT). Whether it comes is learned from the replies themselves, in order, without waiting: FEAT
 * and NOOP go out behind the header. A first error reply is the header's; FEAT is answered with 211
 * or an error; NOOP with 2xx. So: 211 first (the header taken, FEAT answered); error, then 211 or an
 * error (the header's answer, then FEAT's); error, then 2xx (no FEAT, and the error was FEAT's).
 * Only a backend that speaks the PROXY protocol, lacks FEAT and refuses NOOP before a login stays
 * ambiguous: its two errors are taken as the header's and FEAT's, and NOOP stops waiting for a reply
 * after PRELUDE_NOOP_WAIT_MS, so the next command still gets its own. Resolves with FEAT's reply, or
 * undefined when it had none.
 */
function absorbPreludeReply(control: BackendControl): {
  feat: Promise<FtpReply | undefined>;
  settled: Promise<unknown>;
} {
  const isError = (reply: FtpReply) => reply.code >= 400;
  void control.expectOptionalReply(isError).catch(() => {});
  const feat = control.commandOptional('FEAT', (reply) => reply.code === 211 || isError(reply));
  // The one case the order cannot tell (a backend that speaks the PROXY protocol, lacks FEAT and
  // refuses NOOP before a login): the two errors were FEAT's and NOOP's, and NOOP's own reply never
  // comes; it gives up after a while instead of taking the next command's reply.
  const settled = control.commandOptional('NOOP', () => true, PRELUDE_NOOP_WAIT_MS);
  return { feat, settled };
}

/** mod_proxy's trace of the PROXY header it sends: v1 as its text, v2 by its size (binary). */
function describeProxyHeader(header: Buffer): string {
  const text = header.subarray(0, 6).toString('latin1');
  return text === 'PROXY '
    ? `sending PROXY protocol V1 message: '${header.toString('latin1').trim()}' to backend`
    : `sending PROXY protocol V2 message (${header.length} bytes) to backend`;
}
