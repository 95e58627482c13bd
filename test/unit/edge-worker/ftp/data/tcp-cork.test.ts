import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { relayData } from '../../../../../edge-worker/ftp/data/data-relay.js';
import { connectReadBuffered } from '../../../../../edge-worker/ftp/data/read-buffer.js';
import { cork, isCorked, tcpCorkStatus, uncork } from '../../../../../edge-worker/ftp/data/tcp-cork.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function listen(onConnection: (socket: Socket) => void = () => {}): Promise<number> {
  const server = createServer(onConnection);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/**
 * Net::FTP's check, in Python: read once, then look for the end of the data without waiting. Prints,
 * per connection, the bytes read and "eof" when the end was already there ("open" when not).
 */
const READ_ONCE_THEN_EOF = `
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    data = s.recv(8192)
    s.setblocking(False)
    try:
        end = 'eof' if s.recv(1) == b'' else 'more'
    except BlockingIOError:
        end = 'open'
    print(len(data), end)
    s.close()
`;

describe('TCP_CORK for data connections (native/tcp-cork)', () => {
  it('the addon is built and loads (npm install builds it)', () => {
    expect(tcpCorkStatus()).toMatchObject({ available: true });
  });

  it('corks and uncorks a TCP socket, and refuses a closed one', async () => {
    const accepted: Socket[] = [];
    const port = await listen((socket) => accepted.push(socket));
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    expect(isCorked(client)).toBe(false);
    expect(cork(client)).toBe(true);
    expect(isCorked(client)).toBe(true);
    expect(uncork(client)).toBe(true);
    expect(isCorked(client)).toBe(false);
    client.destroy();
    expect(cork(client)).toBe(false);
    for (const socket of accepted) socket.destroy();
  });

  it('relays a short download so that the client finds its end right behind its one read', async () => {
    const text = 'Hello, Proxying World!\n';
    const runs = 10;
    // The backend's data connection: the file, then its end.
    const backendPort = await listen((socket) => socket.end(text));
    const relayed: Promise<number>[] = [];
    const clientPort = await listen((sink) => {
      const source = connectReadBuffered({ host: '127.0.0.1', port: backendPort });
      relayed.push(once(source, 'connect').then(() => relayData(source, sink, new AbortController().signal)));
    });
    const { stdout } = await promisify(execFile)('python3', [
      '-c',
      READ_ONCE_THEN_EOF,
      String(clientPort),
      String(runs),
    ]);
    expect(stdout.trim().split('\n')).toEqual(Array(runs).fill(`${text.length} eof`));
    expect(await Promise.all(relayed)).toEqual(Array(runs).fill(text.length));
  });
});
