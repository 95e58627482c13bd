/** An `scp -t` (the client uploads) or `scp -f` (the client downloads) command run by the server side of scp. */
export interface ScpCommand {
  direction: 'incoming' | 'outgoing';
  /** The path argument, as the client gave it. */
  path: string;
}

/**
 * Recognises the commands OpenSSH's scp runs on the server (`scp [-r] [-p] [-d] -t|-f [--] path`);
 * anything else is not scp (and needs `allow.exec`).
 */
export function parseScpCommand(command: string): ScpCommand | undefined {
  const words = command.trim().split(/\s+/);
  if (words[0] !== 'scp' && words[0] !== '/usr/bin/scp') return undefined;
  let direction: ScpCommand['direction'] | undefined;
  const paths: string[] = [];
  let options = true;
  for (const word of words.slice(1)) {
    if (options && word === '--') {
      options = false;
    } else if (options && word.startsWith('-')) {
      if (word.includes('t')) direction = 'incoming';
      if (word.includes('f')) direction = 'outgoing';
    } else {
      paths.push(word);
    }
  }
  if (!direction) return undefined;
  return { direction, path: paths.join(' ') };
}
