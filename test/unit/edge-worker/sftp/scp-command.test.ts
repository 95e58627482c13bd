import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseScpCommand } from '../../../../edge-worker/sftp/scp-command.js';

function accepted(command: string) {
  const parsed = parseScpCommand(command);
  if (parsed.kind !== 'scp') throw new Error(`expected scp, got ${JSON.stringify(parsed)}`);
  return parsed.scp;
}

function refusal(command: string): string {
  const parsed = parseScpCommand(command);
  if (parsed.kind !== 'refused') throw new Error(`expected a refusal, got ${JSON.stringify(parsed)}`);
  return parsed.reason;
}

/** What a real POSIX shell makes of the rebuilt command's words (printed one per line, NUL-safe enough here). */
function shellWords(command: string): string[] {
  const out = execFileSync('/bin/sh', [
    '-c',
    `set -f; printf '%s\\0' ${command.split(' ').slice(1).join(' ')}`,
  ]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

describe('parseScpCommand: what OpenSSH scp -O sends', () => {
  it.each([
    ['scp -t .', 'incoming', '.', 'scp -t .'],
    ['scp -f uploads/a.bin', 'outgoing', 'uploads/a.bin', 'scp -f uploads/a.bin'],
    ['scp -v -r -p -d -t dir', 'incoming', 'dir', 'scp -v -r -p -d -t dir'],
    ['scp -r -p -f -- -x', 'outgoing', '-x', 'scp -r -p -f -- -x'],
    ['scp -pt dir', 'incoming', 'dir', 'scp -p -t dir'],
    ['/usr/bin/scp -f a', 'outgoing', 'a', '/usr/bin/scp -f a'],
    ["scp -f 'a b'", 'outgoing', 'a b', 'scp -f "a b"'],
    ['scp -f "a b\\$c"', 'outgoing', 'a b$c', 'scp -f "a b\\$c"'],
    ["scp -f 'it'\\''s'", 'outgoing', "it's", `scp -f "it's"`],
    ['scp -f a\\ b\\;c', 'outgoing', 'a b;c', 'scp -f "a b;c"'],
    ['scp -f "x\\\\y\\"z"', 'outgoing', 'x\\y"z', 'scp -f "x\\\\y\\"z"'],
    ['scp -f "a\\nb"', 'outgoing', 'a\\nb', 'scp -f "a\\\\nb"'],
    ['scp -f ~/in/x', 'outgoing', '~/in/x', 'scp -f ~/in/x'],
    ['scp -f ~', 'outgoing', '~', 'scp -f ~'],
    ["scp -f 'dir/'*.txt", 'outgoing', 'dir/*.txt', 'scp -f dir/*.txt'],
    ['scp -f dé/ü', 'outgoing', 'dé/ü', 'scp -f "dé/ü"'],
    ["scp -f 'a'b'^c'", 'outgoing', 'ab^c', 'scp -f "ab^c"'],
    ['scp -t \'a `b` $c "d"\'', 'incoming', 'a `b` $c "d"', 'scp -t "a \\`b\\` \\$c \\"d\\""'],
    ["scp -f 'dir x/'*.txt", 'outgoing', 'dir x/*.txt', 'scp -f "dir x/"*.txt'],
  ])('%s', (command, direction, path, rebuilt) => {
    const scp = accepted(command);
    expect(scp.direction).toBe(direction);
    expect(scp.path).toBe(path);
    expect(scp.command).toBe(rebuilt);
  });

  it('rebuilds commands that a real shell reads back as exactly the parsed words', () => {
    for (const command of [
      "scp -f 'a b'\\''$(id)`id`;|&<>'",
      'scp -t "quote\\"d \\$HOME"',
      'scp -f -- -rf',
      "scp -t 'back\\slash \\$ \\` \\\" ^ ! # ~ * ? [x] {a,b}'",
      'scp -f a\\\\b\\ c',
    ]) {
      const scp = accepted(command);
      const words = shellWords(scp.command);
      expect(words.at(-1)).toBe(scp.path);
    }
  });
});

describe('parseScpCommand: refusals', () => {
  it.each([
    ['scp -t uploads; touch owned', '";"'],
    ['scp -t uploads;touch owned', '";"'],
    ['scp -t $(touch owned)', '"$"'],
    ['scp -t "$(touch owned)"', '"$"'],
    ['scp -t `touch owned`', '"`"'],
    ['scp -t "`touch owned`"', '"`"'],
    ['scp -t uploads | touch owned', '"|"'],
    ['scp -t uploads && touch owned', '"&"'],
    ['scp -t uploads & touch owned', '"&"'],
    ['scp -t uploads\ntouch owned', 'newline'],
    ["scp -t 'up\nloads'", 'newline'],
    ['scp -t uploads\\\ntouch owned', 'newline'],
    ['scp -t uploads > owned', '">"'],
    ['scp -t < /etc/passwd', '"<"'],
    ['scp -t $HOME', '"$"'],
    ['scp -t $' + '{HOME}', '"$"'],
    ['scp -t (touch owned)', '"("'],
    ['scp -t a{b,c}', '"{"'],
    ['scp -t a[bc]', '"["'],
    ['scp -t ~root/x', 'user name'],
    ['scp -t #x', '"#"'],
    ['scp -t a\0b', 'U+0000'],
    ["scp -t 'unterminated", 'unterminated single quote'],
    ['scp -t "unterminated', 'unterminated double quote'],
    ['scp -t a\\', 'backslash at the end'],
    ['scp -t a b', '2 paths'],
    ['scp -t', 'no path'],
    ["scp -t ''", 'empty path'],
    ['scp uploads', 'neither -t nor -f'],
    ['scp -t -f x', 'both -t and -f'],
    ['scp -tS /bin/sh x', 'unsupported scp option "-S"'],
    ['scp -3 -t x', 'unsupported scp option "-3"'],
    ['scp - -t x', 'empty option'],
    ['scp -t up*', 'wildcards'],
  ])('%j', (command, reason) => {
    expect(refusal(command)).toContain(reason);
  });

  it('refuses a quoted "-t" as an option (it is a path)', () => {
    expect(refusal("scp -f '-t' x")).toContain('2 paths');
    expect(accepted("scp -t '-f'").path).toBe('-f');
  });

  it('refuses an over-long command before parsing it', () => {
    expect(refusal(`scp -t ${'a'.repeat(20_000)}`)).toContain('longer than');
  });

  it('leaves other commands to the exec rule', () => {
    for (const command of ['id', 'scpx -t a', 'scp;id -t a', 'sh -c "scp -t a"', "'scp' -t x", '']) {
      expect(parseScpCommand(command)).toEqual({ kind: 'not-scp' });
    }
  });
});
