/**
 * The bare ssh2 relay the SFTP benchmark measures ftpx against: an ssh2 server that takes any
 * password, logs in to the backend sshd with it as an ssh2 client, and pipes the sftp subsystem
 * channel to the backend's, with nothing else (no audit, no policies, no logging). Run as its own
 * process so its CPU time can be read from /proc:
 *   node dist/bench/ssh2-relay.js <listen port> <host key file> <backend port>
 * It writes "listening" to stderr when ready. Benchmark-only: it trusts any backend host key.
 */
import { readFileSync } from 'node:fs';
import ssh2, { type ClientChannel, type ServerChannel } from 'ssh2';

const { Client, Server } = ssh2;

const [portArg, hostKeyFile, backendPortArg] = process.argv.slice(2);
if (!portArg || !hostKeyFile || !backendPortArg) {
  process.stderr.write('usage: ssh2-relay <listen port> <host key file> <backend port>\n');
  process.exit(2);
}
const backendPort = Number(backendPortArg);

const server = new Server({ hostKeys: [readFileSync(hostKeyFile)] }, (client) => {
  let backend: InstanceType<typeof Client> | undefined;
  client.on('error', () => backend?.end());
  client.on('close', () => backend?.end());
  client.on('authentication', (ctx) => {
    if (ctx.method !== 'password') return ctx.reject(['password']);
    const upstream = new Client();
    upstream.once('ready', () => {
      backend = upstream;
      ctx.accept();
    });
    upstream.once('error', () => ctx.reject(['password']));
    upstream.connect({
      host: '127.0.0.1',
      port: backendPort,
      username: ctx.username,
      password: ctx.password,
      hostVerifier: () => true,
    });
  });
  client.on('session', (accept) => {
    const session = accept();
    session.on('subsystem', (acceptSubsystem, reject, info) => {
      if (info.name !== 'sftp' || !backend) return reject?.();
      // Accepted at once (OpenSSH sends SSH_FXP_INIT right away); the channel buffers until piped.
      const front = acceptSubsystem() as unknown as ServerChannel;
      backend.subsys('sftp', (err, back: ClientChannel) => {
        if (err) return front.close();
        front.pipe(back);
        back.pipe(front);
        back.on('close', () => front.close());
        front.on('close', () => back.close());
      });
    });
  });
});
server.listen(Number(portArg), '127.0.0.1', () => process.stderr.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
