import type { SessionHandle } from '../../admin/session-registry.js';
import type { Logger } from '../../log/logger.js';
import type { BackendChannel } from '../control/backend-control.js';
import type { CommandEvent, FtpCommand } from '../control/command-parser.js';
import type { ControlChannel } from '../control/frontend-control.js';
import type { SessionTimeouts } from './session-timeouts.js';

/** What a session does with a client's line, after the checks every FTP session makes first. */
export type ScreenedCommand =
  | { kind: 'command'; command: FtpCommand }
  /** Answered here (a line over the limit): go on with the next one. */
  | { kind: 'answered' }
  /** A PROXY header from a source not trusted to send one: the connection is destroyed. */
  | { kind: 'untrusted-proxy-header' };

/**
 * The checks both session roles make on every client line before their own handling: an overlong
 * line or a verb that is not letters only gets `500`, a PROXY protocol header (whoever sent it may be forging its address) closes the
 * connection, and the command is traced and logged, never with a PASS argument.
 */
export async function screenCommand(
  event: CommandEvent,
  frontend: ControlChannel,
  maxCommandLength: number,
  log: Logger,
): Promise<ScreenedCommand> {
  if (event.kind === 'too-long') {
    log.warn('command line too long', { limit: maxCommandLength });
    await frontend.reply(500, `Command line too long (limit ${maxCommandLength} bytes).`);
    return { kind: 'answered' };
  }
  if (event.kind === 'bad-verb') {
    // The line is not logged: "PASS\tsecret" is one such line.
    log.warn('command verb is not letters only (RFC 959 section 5.3); refused');
    await frontend.reply(500, 'Syntax error, command unrecognized.');
    return { kind: 'answered' };
  }
  const { command } = event;
  if (command.verb === 'PROXY') {
    log.warn('PROXY protocol header from a source not in proxyProtocol.trustedNetworks; closing');
    frontend.destroy();
    return { kind: 'untrusted-proxy-header' };
  }
  // The logger scrubs PASS arguments from trace lines too (log/logger.ts).
  log.trace('proxy.ftp.ctrl', 9, () =>
    command.verb === 'PASS'
      ? 'received command: PASS (hidden)'
      : `received command: ${command.verb} ${command.arg}`.trim(),
  );
  log.debug('command', {
    verb: command.verb,
    ...(command.verb === 'PASS' ? {} : { arg: command.arg }),
  });
  return { kind: 'command', command };
}

/**
 * The command loop of both session roles: one client line at a time, in order, until the client
 * goes, `handle` says the session is over, or the backend connection is lost (thrown, so the
 * session answers 421). Resolves with the reason the session ended.
 */
export async function runCommandLoop(session: {
  frontend: ControlChannel;
  backend(): BackendChannel | undefined;
  /** Set when the proxy itself ended the session (a timeout, a kick). */
  endedByProxy(): string | undefined;
  timeouts: SessionTimeouts;
  tracked: SessionHandle;
  handle(event: CommandEvent): Promise<boolean>;
}): Promise<string> {
  const { frontend } = session;
  for (;;) {
    await frontend.commands.ready();
    const backend = session.backend();
    if (backend?.isLost) throw await backend.lost;
    const event = await frontend.commands.next();
    if (event === undefined)
      return session.endedByProxy() ?? frontend.closeReason ?? 'client closed the connection';
    session.timeouts.commandReceived();
    session.tracked.touch();
    if (await session.handle(event)) return 'client quit';
  }
}
