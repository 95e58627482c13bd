import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { expect } from 'vitest';
import { sha256File } from './ftp-backends.js';
import { type PythonFtpOptions, pythonFtp } from './python-ftp.js';
import { RawFtp } from './raw-ftp.js';

/** The byte counts of an xferlog, in order (the 8th field: after the date, the duration, the host). */
export async function loggedBytes(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Number(line.trim().split(/\s+/)[7]));
}

/**
 * ABOR in the middle of a download of `path` (`style` as ftplib's client sends it), then a NOOP, a
 * PWD and the whole file again in the same session: the abort is answered, the session goes on, and
 * the second download is byte-exact.
 */
export async function expectAbortThenWholeDownload(
  connection: PythonFtpOptions,
  file: { path: string; bytes: number; sha256: string; local: string },
  style?: 'inband',
): Promise<void> {
  const { result } = await pythonFtp(
    [
      { op: 'login' },
      { op: 'abort-during-retr', path: file.path, bytes: 256 * 1024, ...(style ? { style } : {}) },
      { op: 'pwd' },
      { op: 'retr', path: file.path, local: file.local },
    ],
    connection,
  );
  const ops = result.results.filter((op) => op.op !== 'auth' && op.op !== 'prot');
  expect(ops[1]?.error).toBeUndefined();
  expect(ops[1]?.reply).toMatch(/^(426|225|226)/);
  expect(ops[1]?.noopReply).toMatch(/^200/);
  expect(ops[3]?.bytes).toBe(file.bytes);
  expect(await sha256File(file.local)).toBe(file.sha256);
}

/**
 * A download of `path` whose client opens the data connection and never reads: once the buffers on
 * the way are full no byte moves, and the proxy's TimeoutStalled (1 s in the test configuration)
 * ends the session with its 421.
 */
export async function expectStallTimeout(
  port: number,
  user: string,
  password: string,
  path: string,
): Promise<void> {
  const ftp = await RawFtp.open(port);
  await ftp.login(user, password);
  const epsv = await ftp.command('EPSV');
  const dataPort = Number(/\|\|\|(\d+)\|/.exec(epsv ?? '')?.[1]);
  const data = connect({ host: '127.0.0.1', port: dataPort });
  try {
    await once(data, 'connect');
    data.pause();
    expect(await ftp.command(`RETR ${path}`)).toMatch(/^150/);
    const started = Date.now();
    let last: string | undefined;
    for (;;) {
      const reply = await ftp.reply(15_000).catch(() => undefined);
      if (reply === undefined) break;
      last = reply;
    }
    expect(last).toBe('421 Data transfer stall timeout: 1 second');
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    data.destroy();
  }
}
