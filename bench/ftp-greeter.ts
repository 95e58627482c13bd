/**
 * A minimal FTP backend for the idle-sessions benchmark (bench/idle-sessions.ts): greets, accepts any
 * USER/PASS, answers the few commands a proxy may send after login, and otherwise holds the
 * connection. Real servers cannot hold 10,000 logins on one machine (ProFTPD forks a process per
 * session), and the benchmark measures the proxy, not the backend. Loopback only. Run as its own
 * process (`node dist/bench/ftp-greeter.js`), so that its sockets do not count against the
 * benchmark's open-file limit: it prints `port N` once listening and `connections N` on SIGUSR2.
 */
import { createServer, type Socket } from 'node:net';

const REPLIES: Record<string, string> = {
  USER: '331 Password required',
  PASS: '230 User logged in',
  SYST: '215 UNIX Type: L8',
  FEAT: '211 No features',
  PWD: '257 "/" is the current directory',
  TYPE: '200 Type set',
  NOOP: '200 NOOP command successful',
  OPTS: '200 OK',
  CLNT: '200 OK',
};
/** A command line longer than this ends the connection (no unbounded buffer). */
const MAX_LINE = 4096;

const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
  socket.setEncoding('latin1');
  let pending = '';
  socket.on('data', (text: string) => {
    pending += text;
    if (pending.length > MAX_LINE && !pending.includes('\n')) {
      socket.destroy();
      return;
    }
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end).replace(/\r$/, '');
      pending = pending.slice(end + 1);
      const verb = line.split(' ')[0]?.toUpperCase() ?? '';
      if (verb === 'QUIT') {
        socket.end('221 Goodbye\r\n');
        return;
      }
      socket.write(`${REPLIES[verb] ?? '502 Command not implemented'}\r\n`);
    }
  });
  socket.write('220 ftp-greeter ready\r\n');
});
server.maxConnections = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`port ${address.port}\n`);
});
process.on('SIGUSR2', () => process.stdout.write(`connections ${sockets.size}\n`));
process.on('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});
// The benchmark went away: do not outlive it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
