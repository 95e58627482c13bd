import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectBackend } from '../../../../../edge-worker/ftp/control/backend-connect.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/**
 * A backend that greets at once, then reads commands and answers each line with `answer` (nothing
 * when it returns undefined). It answers nothing before the client's FEAT has arrived, so that the
 * answer to the PROXY header always comes after the proxy has sent its next command: the order in
 * which it put the control channel out of step in some runs.
 */
async function fakeBackend(answer: (line: string) => string | undefined): Promise<number> {
  const server = createServer((socket: Socket) => {
    socket.on('error', () => {});
    socket.write('220 Fake Server ready\r\n');
    let buffered = '';
    let featSeen = false;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      featSeen ||= /^FEAT\r\n/m.test(buffered);
      if (!featSeen) return;
      const lines = buffered.split('\r\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const reply = answer(line);
        if (reply !== undefined) socket.write(reply);
      }
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

const FEAT_REPLY = '211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n';

function answers(options: { proxy: boolean; feat: boolean; noop: boolean }) {
  return (line: string): string | undefined => {
    if (line.startsWith('PROXY ')) return options.proxy ? undefined : '500 PROXY not understood\r\n';
    if (line === 'FEAT') return options.feat ? FEAT_REPLY : '500 FEAT not understood\r\n';
    if (line === 'NOOP')
      return options.noop ? '200 NOOP command successful\r\n' : '530 Please login with USER and PASS\r\n';
    if (line.startsWith('USER ')) return '331 Password required\r\n';
    return `500 ${line} not understood\r\n`;
  };
}

describe('a PROXY protocol header sent to the backend', () => {
  for (const [name, options, features] of [
    [
      'a backend that does not speak it answers the header: that answer is absorbed',
      { proxy: false, feat: true, noop: true },
      ['MDTM', 'SIZE'],
    ],
    [
      'a backend that speaks it sends no answer to it',
      { proxy: true, feat: true, noop: true },
      ['MDTM', 'SIZE'],
    ],
    ['a backend that speaks it but has no FEAT', { proxy: true, feat: false, noop: true }, []],
    ['a backend that speaks neither it nor FEAT', { proxy: false, feat: false, noop: true }, []],
    [
      'a backend that speaks neither, and refuses NOOP before a login',
      { proxy: false, feat: false, noop: false },
      [],
    ],
    // The one ambiguous order: two errors, read as the header's and FEAT's; NOOP stops waiting.
    [
      'a backend that speaks it, has no FEAT and refuses NOOP before a login',
      { proxy: true, feat: false, noop: false },
      [],
    ],
  ] as const) {
    it(`${name}; the next command gets its own reply`, async () => {
      const port = await fakeBackend(answers(options));
      const backend = await connectBackend(
        { protocol: 'ftp', host: '127.0.0.1', port, implicitTls: false },
        { timeoutMs: 10_000, prelude: () => Buffer.from('PROXY TCP4 127.0.0.2 127.0.0.1 40000 21\r\n') },
      );
      try {
        expect(backend.banner.code).toBe(220);
        const reply = await backend.control.command('USER alice');
        expect([reply.code, reply.lines]).toEqual([331, ['331 Password required']]);
        await backend.control.featuresReady;
        expect([...backend.control.features.keys()]).toEqual(features);
        expect(backend.control.unsolicitedCount).toBe(0);
      } finally {
        backend.control.destroy();
      }
    });
  }
});
