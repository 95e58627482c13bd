import type { ControlChannel } from '../control/frontend-control.js';

/**
 * HOST (RFC 7151) must come before USER and name a host (an IPv6 address in brackets). Out of
 * sequence or empty, the client is answered here (503, 501); otherwise the name, lower-cased and
 * unbracketed, for the role to look up among its virtual hosts.
 */
export async function hostCommandName(
  frontend: ControlChannel,
  arg: string,
  loginStarted: boolean,
): Promise<string | undefined> {
  if (loginStarted) {
    await frontend.reply(503, 'HOST must come before USER.');
    return undefined;
  }
  const name = arg
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (name === '') {
    await frontend.reply(501, 'HOST needs a host name.');
    return undefined;
  }
  return name;
}
