import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

/**
 * ProxyTimeoutLinger after a normal end of the data connection
 * (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyTimeoutLinger): a backend that sends all
 * the data but never its end-of-transfer reply is waited for up to the linger time, then the client
 * gets mod_proxy's `500 RETR: Connection timed out`; the late reply is consumed in order and the
 * session goes on. The backend is a scripted one on loopback: no real server can be told to be late.
 */

/** A backend that serves one file over EPSV and sends its 226 after the data, at once or `late()` (after 1.5 s). */
function scriptedBackend(late: () => boolean): Server {
  return createServer((control: Socket) => {
    control.setEncoding('latin1');
    let dataServer: Server | undefined;
    let buffered = '';
    const say = (line: string) => control.write(`${line}\r\n`);
    say('220 scripted backend');
    control.on('data', (text: string) => {
      buffered += text;
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.split(' ')[0]?.toUpperCase();
        if (verb === 'USER') say('331 Password required');
        else if (verb === 'PASS') say('230 Logged in');
        else if (verb === 'TYPE') say('200 Type set');
        else if (verb === 'FEAT') say('211 No features');
        else if (verb === 'QUIT') {
          say('221 Bye');
          control.end();
        } else if (verb === 'EPSV') {
          dataServer?.close();
          const server = createServer();
          dataServer = server;
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            say(
              `229 Entering Extended Passive Mode (|||${typeof address === 'object' && address ? address.port : 0}|)`,
            );
          });
        } else if (verb === 'RETR') {
          const server = dataServer;
          say('150 Opening BINARY mode data connection');
          server?.once('connection', (data: Socket) => {
            data.end('hello, linger\n', () => {
              server.close();
              setTimeout(() => say('226 Transfer complete'), late() ? 1500 : 20);
            });
          });
        } else say('502 Command not implemented');
      }
    });
    control.on('error', () => {});
    control.on('close', () => dataServer?.close());
  });
}

async function download(client: RawFtp): Promise<{ data: string; reply: string | undefined }> {
  const epsv = await client.command('EPSV');
  const port = Number(/\(\|\|\|(\d+)\|\)/.exec(epsv ?? '')?.[1]);
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  client.write('RETR file.txt\r\n');
  expect(await client.reply()).toMatch(/^150 /);
  await ended;
  return { data: Buffer.concat(chunks).toString('utf8'), reply: await client.reply() };
}

describe('ProxyTimeoutLinger after a normal data EOF', () => {
  let late = true;
  let backend: Server;
  let proxy: TestProxy;

  beforeAll(async () => {
    backend = scriptedBackend(() => late);
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    const address = backend.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    proxy = await startTestProxy({
      backends: [`ftp://127.0.0.1:${port}`],
      poolSettings: { lingerTimeout: '400ms' },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await new Promise<void>((resolve) => backend?.close(() => resolve()));
  });

  it('answers 500 <verb>: Connection timed out when the 226 comes too late, and the session goes on', async () => {
    const client = await RawFtp.open(proxy.port);
    await client.login('alice', 'secret');
    late = true;
    const first = await download(client);
    expect(first.data).toBe('hello, linger\n');
    expect(first.reply).toBe('500 RETR: Connection timed out');
    // The late 226 is not taken for the next command's reply: the session goes on in step.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    late = false;
    const second = await download(client);
    expect(second.data).toBe('hello, linger\n');
    expect(second.reply).toBe('226 Transfer complete');
    expect(await client.command('QUIT')).toMatch(/^221/);
    client.destroy();
  });
});
