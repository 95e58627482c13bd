import { describe, expect, it } from 'vitest';
import { Logger } from '../../../../edge-worker/log/logger.js';
import { sshTraceDebug } from '../../../../edge-worker/log/ssh-trace.js';

function tracer(traces: Record<string, number>) {
  const lines: Array<{ channel: string; trace: number; msg: string }> = [];
  const log = new Logger(
    { write: () => {} },
    'error',
    {},
    {
      traces,
      traceSink: { write: (line) => lines.push(JSON.parse(line)) },
    },
  );
  return { log, lines };
}

/** Debug lines as ssh2 1.x writes them for one client connection. */
const SSH2_LINES = [
  "Remote ident: 'SSH-2.0-mod_sftp'",
  'Outbound: Sending KEXINIT',
  'Inbound: Handshake in progress',
  'Handshake: (local) KEX method: curve25519-sha256,ecdh-sha2-nistp256',
  'Handshake: (remote) KEX method: curve25519-sha256',
  'Handshake: KEX algorithm: curve25519-sha256',
  'Handshake: Host key format: ssh-ed25519',
  'Handshake: C->S Cipher: aes128-gcm@openssh.com',
  'Handshake: S->C cipher: aes128-gcm@openssh.com',
  'Handshake: C->S MAC: <implicit>',
  'Handshake: C->S compression: none',
  'Outbound: Sending KEXECDH_INIT',
  'Received DH Reply',
  'Outbound: Sending NEWKEYS',
  'Handshake completed',
  'Outbound: Sending SERVICE_REQUEST (ssh-userauth)',
  'Inbound: Received SERVICE_ACCEPT (ssh-userauth)',
  'Outbound: Sending USERAUTH_REQUEST (password)',
  'Inbound: Received USERAUTH_SUCCESS',
  'Outbound: Sending CHANNEL_DATA (r:0, 32768)',
  'Inbound: CHANNEL_DATA (r:0, 32768)',
  'Outbound: Sending CHANNEL_WINDOW_ADJUST (r:0, 2097152)',
  'Outbound: Sending DISCONNECT (11)',
];

describe('proxy.ssh.* traces from ssh2 debug lines', () => {
  it('costs nothing when no ssh channel is traced: ssh2 gets no debug function', () => {
    expect(sshTraceDebug(tracer({ 'proxy.ftp': 20 }).log, 'client')).toBeUndefined();
  });

  it("writes mod_proxy's lines on mod_proxy's channels and levels, never one per data packet", () => {
    const { log, lines } = tracer({ 'proxy.ssh': 20, timing: 4 });
    const debug = sshTraceDebug(log, 'client');
    for (const line of SSH2_LINES) debug?.(line);
    const has = (channel: string, trace: number, msg: string | RegExp) =>
      lines.some(
        (line) => line.channel === channel && line.trace === trace && new RegExp(msg).test(line.msg),
      );
    expect(has('proxy.ssh.interop', 5, "handling connection to SSH2 server 'SSH-2.0-mod_sftp'")).toBe(true);
    expect(has('proxy.ssh.kex', 9, 'sending KEXINIT message to server')).toBe(true);
    expect(has('proxy.ssh.kex', 8, 'client-sent key exchange algorithms: curve25519-sha256,ecdh')).toBe(true);
    expect(has('proxy.ssh.kex', 8, 'server-sent key exchange algorithms: curve25519-sha256')).toBe(true);
    expect(has('proxy.ssh.kex', 20, 'session key exchange algorithm: curve25519-sha256')).toBe(true);
    expect(has('proxy.ssh.kex', 20, 'session server hostkey algorithm: ssh-ed25519')).toBe(true);
    expect(has('proxy.ssh.cipher', 19, 'cipher aes128-gcm@openssh.com \\(client-to-server\\)')).toBe(true);
    expect(has('proxy.ssh.mac', 19, 'MAC <implicit> \\(client-to-server\\)')).toBe(true);
    expect(has('proxy.ssh.compress', 20, 'using none compression')).toBe(true);
    expect(has('proxy.ssh.kex', 9, 'writing KEXECDH_INIT message to server')).toBe(true);
    expect(has('timing', 4, '^SSH key exchange duration: \\d+ ms$')).toBe(true);
    expect(has('proxy.ssh.service', 9, 'sent SERVICE_REQUEST packet')).toBe(true);
    expect(has('proxy.ssh.auth', 9, 'writing USER_AUTH_REQUEST password message to server')).toBe(true);
    expect(has('proxy.ssh.auth', 9, 'received USER_AUTH_SUCCESS message from server')).toBe(true);
    expect(has('proxy.ssh.disconnect', 9, 'disconnecting \\(11\\)')).toBe(true);
    expect(lines.some((line) => /CHANNEL_DATA|WINDOW_ADJUST/.test(line.msg))).toBe(false);
  });

  it('keeps each line to its level: proxy.ssh.kex:8 shows the algorithm lists, not the session choices', () => {
    const { log, lines } = tracer({ 'proxy.ssh.kex': 8 });
    const debug = sshTraceDebug(log, 'server');
    for (const line of SSH2_LINES) debug?.(line);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.channel === 'proxy.ssh.kex' && line.trace <= 8)).toBe(true);
    // On the frontend, ftpx is the server: its own list is the server-sent one.
    expect(lines.map((line) => line.msg)).toContain(
      'server-sent key exchange algorithms: curve25519-sha256,ecdh-sha2-nistp256',
    );
  });
});
