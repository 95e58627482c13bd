import { withTimeout } from '../../net/with-timeout.js';
import type { BackendChannel } from '../control/backend-control.js';
import type { FtpCommand } from '../control/command-parser.js';
import type { ControlChannel } from '../control/frontend-control.js';
import { localReply } from '../control/reply.js';
import { featReply } from './feat.js';

/** How long QUIT waits for the backend's goodbye before answering the client itself. */
const QUIT_TIMEOUT_MS = 5000;

/**
 * Commands a session answers itself while no backend is connected (a reverse session choosing at
 * USER, a forward session before its destination is named): FEAT lists only what the proxy provides
 * (`mlst`: its own MLST line, when it translates listings), the harmless ones are acknowledged, the
 * rest must wait for USER.
 */
export async function answerWithoutBackend(
  frontend: ControlChannel,
  command: FtpCommand,
  mlst?: string,
  /** The proxy's own security features (AUTH TLS, PBSZ, PROT) when the listener offers TLS. */
  security: readonly string[] = [],
): Promise<void> {
  switch (command.verb) {
    case 'FEAT':
      await frontend.send(featReply(undefined, mlst, security));
      return;
    case 'SYST':
      await frontend.reply(215, 'UNIX Type: L8');
      return;
    case 'NOOP':
      await frontend.reply(200, 'NOOP command successful');
      return;
    case 'OPTS':
    case 'CLNT':
    case 'LANG':
      await frontend.reply(200, `${command.verb} noted.`);
      return;
    default:
      await frontend.reply(503, 'Login with USER first');
  }
}

/** QUIT: the backend's goodbye when it gives one in time, else the proxy's own; then the client is closed. */
export async function quitSession(
  frontend: ControlChannel,
  backend: BackendChannel | undefined,
): Promise<void> {
  const goodbye = () => localReply(221, 'Goodbye.');
  const reply =
    backend && !backend.isLost
      ? await withTimeout(backend.command('QUIT'), QUIT_TIMEOUT_MS, goodbye).catch(goodbye)
      : goodbye();
  await frontend.sendAndClose(reply);
}
