import type { Logger } from './logger.js';

/**
 * mod_proxy's `proxy.ssh.*` trace channels for an SSH connection ftpx drives through ssh2: ssh2's
 * debug lines ("Handshake: KEX algorithm: curve25519-sha256", "Outbound: Sending USERAUTH_REQUEST
 * (password)") become the lines mod_proxy writes for the same events, on its channels and at its
 * levels (lib/proxy/ssh/kex.c, auth.c, cipher.c, packet.c, ... in
 * https://github.com/Castaglia/proftpd-mod_proxy). Channel data and window adjustments are never
 * traced (one per packet of a transfer: mod_proxy's per-packet lines sit at level 20 and above).
 */
export const SSH_TRACE_CHANNELS = [
  'proxy.ssh',
  'proxy.ssh.auth',
  'proxy.ssh.cipher',
  'proxy.ssh.compress',
  'proxy.ssh.disconnect',
  'proxy.ssh.interop',
  'proxy.ssh.kex',
  'proxy.ssh.mac',
  'proxy.ssh.packet',
  'proxy.ssh.service',
] as const;

/** The highest level any line below is written at: a channel traced at this or more sees all of them. */
const MAX_SSH_LEVEL = 20;

/**
 * ssh2's `debug` option for one connection, or undefined when no `proxy.ssh.*` channel (nor the
 * `timing` channel) is traced: ssh2 then builds no debug text at all. `role` says which side ftpx
 * is: the backend's client (mod_proxy's view: "client-sent" is ftpx's list) or the frontend's server.
 */
export function sshTraceDebug(log: Logger, role: 'client' | 'server'): ((line: string) => void) | undefined {
  if (!SSH_TRACE_CHANNELS.some((channel) => log.traces(channel, 1)) && !log.traces('timing', 4)) {
    return undefined;
  }
  const local = role === 'client' ? 'client' : 'server';
  const remote = role === 'client' ? 'server' : 'client';
  const peer = role === 'client' ? 'server' : 'client';
  let kexStarted: number | undefined;
  return (line: string) => {
    // Hot path: a transfer's packets end here first when any ssh channel is traced.
    if (line.startsWith('Inbound: CHANNEL_DATA') || line.includes('CHANNEL_WINDOW_ADJUST')) return;
    if (
      line.startsWith('Outbound: Sending CHANNEL_DATA') ||
      line.startsWith('Inbound: CHANNEL_EXTENDED_DATA')
    )
      return;
    const handshake = /^Handshake: (?:\((local|remote)\) )?(.+?): (.*)$/.exec(line);
    if (handshake) {
      const [, side, what = '', value = ''] = handshake;
      traceHandshake(log, side === 'local' ? local : side === 'remote' ? remote : undefined, what, value);
      return;
    }
    if (line === 'Outbound: Sending KEXINIT') {
      // Timing per connection: a server's debug function is shared by all its connections.
      if (role === 'client') kexStarted ??= performance.now();
      log.trace('proxy.ssh.kex', 9, `sending KEXINIT message to ${peer}`);
      return;
    }
    if (line === 'Handshake completed') {
      if (kexStarted !== undefined) {
        const ms = Math.round(performance.now() - kexStarted);
        log.trace('timing', 4, () => `SSH key exchange duration: ${ms} ms`);
        kexStarted = undefined;
      }
      log.trace('proxy.ssh.kex', 9, 'setting session keys');
      return;
    }
    const remoteIdent = /^Remote ident: '(.*)'$/.exec(line);
    if (remoteIdent) {
      log.trace('proxy.ssh.interop', 5, () => `handling connection to SSH2 ${peer} '${remoteIdent[1]}'`);
      return;
    }
    const sent = /^Outbound: Sending (\S+)(?: \((.*)\))?/.exec(line);
    const received = /^Inbound: (?:Received )?(\S+)(?: \((.*)\))?/.exec(line);
    const message = sent?.[1] ?? received?.[1];
    if (message === undefined) return;
    const detail = sent?.[2] ?? received?.[2];
    if (message.startsWith('KEX') || message === 'NEWKEYS') {
      log.trace(
        'proxy.ssh.kex',
        9,
        () => `${sent ? 'writing' : 'reading'} ${message} message ${sent ? 'to' : 'from'} ${peer}`,
      );
    } else if (message.startsWith('USERAUTH')) {
      log.trace(
        'proxy.ssh.auth',
        9,
        () =>
          `${sent ? 'writing' : 'received'} ${message.replace('USERAUTH', 'USER_AUTH')}${detail ? ` ${detail}` : ''} message ${sent ? `to ${peer}` : `from ${peer}`}`,
      );
    } else if (message === 'DISCONNECT') {
      log.trace(
        'proxy.ssh.disconnect',
        9,
        () => `${sent ? 'disconnecting' : `${peer} disconnected`} (${detail ?? 'no reason given'})`,
      );
    } else if (message.startsWith('SERVICE_')) {
      log.trace('proxy.ssh.service', 9, () => `${sent ? 'sent' : 'received'} ${message} packet`);
    }
    if (sent) log.trace('proxy.ssh.packet', 3, () => `sent ${message} packet`);
    else log.trace('proxy.ssh.packet', MAX_SSH_LEVEL, () => `received ${message} packet`);
  };
}

function traceHandshake(log: Logger, side: string | undefined, what: string, value: string): void {
  if (side !== undefined) {
    // "(local) KEX method: a,b,c": the lists each side sent (mod_proxy's "client-sent ..." lines).
    const list = LISTS[what];
    if (list) log.trace('proxy.ssh.kex', 8, () => `${side}-sent ${list}: ${value}`);
    return;
  }
  switch (what) {
    case 'KEX algorithm':
      log.trace('proxy.ssh.kex', 20, () => `session key exchange algorithm: ${value}`);
      return;
    case 'Host key format':
      log.trace('proxy.ssh.kex', 20, () => `session server hostkey algorithm: ${value}`);
      return;
    case 'C->S Cipher':
    case 'S->C cipher':
    case 'C->S cipher': {
      const direction = what.startsWith('C->S') ? 'client-to-server' : 'server-to-client';
      log.trace('proxy.ssh.kex', 20, () => `session ${direction} encryption algorithm: ${value}`);
      log.trace('proxy.ssh.cipher', 19, () => `setting key for cipher ${value} (${direction})`);
      return;
    }
    case 'C->S MAC':
    case 'S->C MAC': {
      const direction = what.startsWith('C->S') ? 'client-to-server' : 'server-to-client';
      log.trace('proxy.ssh.kex', 20, () => `session ${direction} MAC algorithm: ${value}`);
      log.trace('proxy.ssh.mac', 19, () => `setting key for MAC ${value} (${direction})`);
      return;
    }
    case 'C->S compression':
    case 'S->C compression': {
      const direction = what.startsWith('C->S') ? 'client-to-server' : 'server-to-client';
      log.trace('proxy.ssh.kex', 20, () => `session ${direction} compression algorithm: ${value}`);
      log.trace('proxy.ssh.compress', 20, () => `using ${value} compression (${direction})`);
      return;
    }
    default:
  }
}

const LISTS: Record<string, string> = {
  'KEX method': 'key exchange algorithms',
  'Host key format': 'host key algorithms',
  'C->S cipher': 'client encryption algorithms',
  'S->C cipher': 'server encryption algorithms',
  'C->S MAC': 'client MAC algorithms',
  'S->C MAC': 'server MAC algorithms',
  'C->S compression': 'client compression algorithms',
  'S->C compression': 'server compression algorithms',
};
