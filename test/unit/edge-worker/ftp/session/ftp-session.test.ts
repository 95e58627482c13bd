import { describe, expect, it } from 'vitest';
import { localReply } from '../../../../../edge-worker/ftp/control/reply.js';
import { FakeBackend, startSession, until } from './fakes.js';

describe('FtpSession (the command loop both roles share), over fake channels', () => {
  it('logs in with USER and PASS, then relays commands; before that only the login commands pass', async () => {
    const { session, client, backend, running } = startSession();
    expect(await client.replyAt(0)).toBe('220 Test backend ready.');
    client.type('PWD');
    expect(await client.replyAt(1)).toBe('530 Please login with USER and PASS');
    client.type('USER alice');
    expect(await client.replyAt(2)).toBe('331 Password required for alice.');
    client.type('PASS secret');
    expect(await client.replyAt(3)).toBe('230 User alice logged in.');
    expect(session.sessionState).toEqual({ kind: 'logged-in' });
    client.type('PWD');
    expect(await client.replyAt(4)).toBe('250 PWD done.');
    // The gate answered the first PWD itself: the backend saw only the one after login.
    expect(backend.lines).toEqual(['USER alice', 'PASS secret', 'PWD']);
    client.type('QUIT');
    await running;
    expect(await client.replyAt(5)).toBe('250 QUIT done.');
    expect(client.closedWith).toBe('sendAndClose');
  });

  it('counts refused logins and closes after MaxLoginAttempts, the last 530 being the last word', async () => {
    const { session, client, running } = startSession({ maxLoginAttempts: 2 });
    await client.replyAt(0);
    client.type('USER alice');
    client.type('PASS wrong');
    expect(await client.replyAt(2)).toBe('530 Login incorrect.');
    expect(client.closedWith).toBeUndefined();
    client.type('USER alice');
    client.type('PASS wrong again');
    expect(await client.replyAt(4)).toBe('530 Login incorrect.');
    await running;
    expect(client.closedWith).toBe('sendAndClose');
    expect(session.sessionState).toEqual({
      kind: 'ended-by-proxy',
      reason: 'too many failed logins',
      loggedIn: false,
    });
  });

  it('starts the count over after a successful login', async () => {
    const { client, running } = startSession({ maxLoginAttempts: 2 });
    await client.replyAt(0);
    for (const line of [
      'USER alice',
      'PASS wrong',
      'USER alice',
      'PASS secret',
      'REIN',
      'USER alice',
      'PASS wrong',
    ])
      client.type(line);
    expect(await client.replyAt(7)).toBe('530 Login incorrect.');
    expect(client.closedWith).toBeUndefined();
    client.type('QUIT');
    await running;
  });

  it('REIN drops the data connection and the login: commands need USER and PASS again', async () => {
    const { session, client, data, running } = startSession();
    await client.replyAt(0);
    client.type('USER alice');
    client.type('PASS secret');
    client.type('PASV');
    await until(() => data.prepared.length === 1, 'PASV');
    const closesBefore = data.closes;
    client.type('REIN');
    expect(await client.replyAt(3)).toBe('220 Service ready for new user.');
    expect(data.closes).toBe(closesBefore + 1);
    expect(session.sessionState).toEqual({ kind: 'awaiting-login' });
    client.type('LIST');
    expect(await client.replyAt(4)).toBe('530 Please login with USER and PASS');
    expect(data.transfers).toHaveLength(0);
    client.type('QUIT');
    await running;
  });

  it('runs a transfer through the data channel; an ABOR sent meanwhile waits for it, then drops the data connection', async () => {
    const { client, data, backend, running } = startSession();
    await client.replyAt(0);
    client.type('USER alice');
    client.type('PASS secret');
    client.type('TYPE I');
    client.type('EPSV');
    client.type('RETR big.iso');
    await until(() => data.transferring, 'the transfer');
    // What the transfer reads of the session: its user, TYPE and login.
    expect(data.transfers[0]?.context).toMatchObject({
      user: 'alice',
      binary: true,
      loggedIn: true,
      lingerMs: 1000,
    });
    client.type('ABOR');
    await new Promise((resolve) => setImmediate(resolve));
    // One command at a time: the ABOR waits for the transfer's end (runTransfer pulls it out of order).
    expect(backend.lines).not.toContain('ABOR');
    const closesBefore = data.closes;
    data.finish();
    expect(await client.replyAt(4)).toBe('226 Abort successful.');
    expect(data.closes).toBe(closesBefore + 1);
    expect(data.prepared).toEqual(['EPSV']);
    client.type('QUIT');
    await running;
  });

  it('relays a backend 421 at once, then ends quietly when the backend hangs up', async () => {
    const { session, client, backend, running } = startSession();
    await client.replyAt(0);
    client.type('USER alice');
    client.type('PASS secret');
    await client.replyAt(2);
    backend.says(localReply(421, 'Idle timeout (600 seconds): closing control connection.'));
    expect(await client.replyAt(3)).toBe('421 Idle timeout (600 seconds): closing control connection.');
    expect(session.sessionState).toEqual({ kind: 'backend-said-goodbye', loggedIn: true });
    backend.hangUp('backend closed the connection');
    await running;
    // The client heard the backend's 421 already: no second one from the proxy.
    expect(client.replies).toHaveLength(4);
    expect(client.closedWith).toBe('end');
  });

  it('answers 421 when the backend is lost without a goodbye', async () => {
    const { client, backend, running } = startSession();
    await client.replyAt(0);
    backend.hangUp('connection reset');
    await running;
    expect(await client.replyAt(1)).toBe('421 Service not available, backend connection lost.');
    expect(client.closedWith).toBe('sendAndClose');
  });

  it('refuses a command a <Limit> denies before the backend sees it, and lets the others through', async () => {
    const { client, backend, running } = startSession({
      limits: [
        {
          commands: ['DELE'],
          allowUsers: ['bob'],
          denyUsers: [],
          allowFrom: [],
          denyFrom: [],
          order: 'allow,deny',
          otherwise: 'deny',
        },
      ],
    });
    await client.replyAt(0);
    client.type('USER alice');
    client.type('PASS secret');
    client.type('DELE report.pdf');
    expect(await client.replyAt(3)).toBe('550 DELE: Operation not permitted');
    client.type('MKD reports');
    expect(await client.replyAt(4)).toBe('250 MKD reports done.');
    expect(backend.lines).not.toContain('DELE report.pdf');
    client.type('QUIT');
    await running;
  });

  it('filters FEAT and refuses LPRT/LPSV itself; ends on close() with the reason given', async () => {
    const { session, client, running } = startSession();
    await client.replyAt(0);
    client.type('FEAT');
    const feat = await client.replyAt(1);
    expect(feat).toContain('MDTM');
    // The backend's AUTH TLS is not the proxy's to offer on a listener without FTPS.
    expect(feat).not.toContain('AUTH TLS');
    client.type('USER alice');
    client.type('PASS secret');
    client.type('LPSV');
    expect(await client.replyAt(4)).toBe('502 LPSV is not supported; use EPRT or EPSV.');
    session.close('Server shutting down.');
    await running;
    expect(await client.replyAt(5)).toBe('421 Server shutting down.');
    expect(session.sessionState).toMatchObject({ kind: 'ended-by-proxy', reason: 'Server shutting down.' });
  });

  it('relays QUIT to the backend before login too', async () => {
    const backend = new FakeBackend(() => localReply(221, 'Goodbye.'));
    const { client, running } = startSession({ backend });
    await client.replyAt(0);
    client.type('QUIT');
    await running;
    expect(await client.replyAt(1)).toBe('221 Goodbye.');
    expect(backend.lines).toEqual(['QUIT']);
  });
});
