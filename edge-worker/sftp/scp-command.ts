import { parseShellWords, quoteWord, type ShellWord, wordText } from './shell-words.js';

/** An `scp -t` (the client uploads) or `scp -f` (the client downloads) command run by the server side of scp. */
export interface ScpCommand {
  direction: 'incoming' | 'outgoing';
  /** The path argument as the shell reads it (wildcards and `~` as typed), for logs. */
  path: string;
  /**
   * The command rebuilt from the parsed parts, with the path re-quoted: the only string sent to the
   * backend, so no byte of the client's own command line reaches the backend's shell.
   */
  command: string;
}

export type ScpParse =
  /** Not an scp command at all: an ordinary `exec` (allowed only with `allow.exec`). */
  | { kind: 'not-scp' }
  /** Starts like scp but is not what an scp client sends: refused unless `allow.exec`. */
  | { kind: 'refused'; reason: string }
  | { kind: 'scp'; scp: ScpCommand };

/** The longest command accepted: PATH_MAX (4096) plus the program and its options, with room for quoting. */
export const MAX_SCP_COMMAND = 16 * 1024;

const PROGRAMS = new Set(['scp', '/usr/bin/scp']);
/** The flags OpenSSH's scp puts before -t/-f, in the order it writes them (scp.c: "scp%s%s%s%s"). */
const FLAG_ORDER = ['v', 'r', 'p', 'd'] as const;

/**
 * Recognises exactly the remote command of OpenSSH's legacy scp protocol (`scp -O`, or any scp
 * before OpenSSH 9.0): `scp [-v] [-r] [-p] [-d] -t|-f [--] PATH`. The client writes PATH as the user
 * typed it after `host:`, in the remote shell's syntax (quoting is the user's job, see scp(1)), so it
 * is parsed as POSIX shell words; an unquoted metacharacter, a substitution, a newline or a second
 * path refuses the command (OpenSSH's own sink refuses several targets too). `-t`/`-f` may be
 * combined with the flags in one word (`-pt`), as older clients send.
 */
export function parseScpCommand(command: string): ScpParse {
  const program = command.trimStart().split(/[ \t]/, 1)[0] ?? '';
  if (!PROGRAMS.has(program)) return { kind: 'not-scp' };
  if (command.length > MAX_SCP_COMMAND) {
    return { kind: 'refused', reason: `the command is longer than ${MAX_SCP_COMMAND} characters` };
  }
  const parsed = parseShellWords(command);
  if (!parsed.ok) return { kind: 'refused', reason: parsed.reason };
  const [first, ...rest] = parsed.words;
  if (!first || first.quoted) return { kind: 'refused', reason: 'the program name must not be quoted' };

  const flags = new Set<string>();
  let direction: ScpCommand['direction'] | undefined;
  const paths: ShellWord[] = [];
  let options = true;
  for (const word of rest) {
    const text = wordText(word);
    const isBare = !word.quoted && word.parts.every((part) => part.kind === 'text');
    if (options && isBare && text === '--') {
      options = false;
      continue;
    }
    if (options && isBare && text.startsWith('-')) {
      if (text === '-') return { kind: 'refused', reason: 'an empty option "-"' };
      for (const letter of text.slice(1)) {
        if (letter === 't' || letter === 'f') {
          const next = letter === 't' ? 'incoming' : 'outgoing';
          if (direction && direction !== next) {
            return { kind: 'refused', reason: 'both -t and -f given' };
          }
          direction = next;
        } else if ((FLAG_ORDER as readonly string[]).includes(letter)) {
          flags.add(letter);
        } else {
          return { kind: 'refused', reason: `unsupported scp option "-${letter}"` };
        }
      }
      continue;
    }
    options = false;
    paths.push(word);
  }
  if (!direction) return { kind: 'refused', reason: 'neither -t nor -f given' };
  if (paths.length !== 1) {
    return {
      kind: 'refused',
      reason:
        paths.length === 0 ? 'no path given' : `${paths.length} paths given, scp sends one (quote spaces)`,
    };
  }
  const path = paths[0] as ShellWord;
  const display = wordText(path);
  if (display === '') return { kind: 'refused', reason: 'an empty path' };
  if (direction === 'incoming' && path.parts.some((part) => part.kind === 'wildcard')) {
    return { kind: 'refused', reason: 'an upload target cannot contain wildcards (quote * and ?)' };
  }
  const words = [
    program,
    ...FLAG_ORDER.filter((flag) => flags.has(flag)).map((flag) => `-${flag}`),
    direction === 'incoming' ? '-t' : '-f',
    // As scp.c does: "--" only when the path would otherwise read as an option.
    ...(display.startsWith('-') ? ['--'] : []),
    quoteWord(path),
  ];
  return { kind: 'scp', scp: { direction, path: display, command: words.join(' ') } };
}
