import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';

const CLASS_TEXT = 'Sorry, the maximum number of clients (2) from your class are already connected.';

/**
 * MaxClientsPerClass (http://www.proftpd.org/docs/directives/linked/config_ref_MaxClientsPerClass.html)
 * with real clients in front of a real ProFTPD: two classes by client address (loopback sources), the
 * limited class's third login refused with ProFTPD's text while the other class, a client of no class
 * and a running session go on; the slot comes back after QUIT.
 */
describe('MaxClientsPerClass', () => {
  let backend: FtpBackend;
  let proxy: TestProxy;
  const open: RawFtp[] = [];

  beforeAll(async () => {
    backend = await startFtpBackend('proftpd', { name: 'limits-class' });
    await writeHomeFile(backend, 'hello.txt', 'hello\n');
    proxy = await startTestProxy({
      backends: [backend.url],
      classes: [
        { name: 'guests', from: ['127.0.0.2/32', '127.0.0.3/32'] },
        { name: 'staff', from: ['127.0.0.4/32'] },
      ],
      listener: {
        connections: {
          maxClientsPerClass: [
            { class: 'guests', max: 2 },
            { class: 'staff', max: 1, message: 'Staff seats taken (%m).' },
          ],
        },
      },
    });
  });

  afterAll(async () => {
    for (const ftp of open) ftp.destroy();
    await proxy?.close();
    await backend?.stop();
  });

  const session = async (source: string) => {
    const ftp = await RawFtp.open(proxy.port, '127.0.0.1', source);
    open.push(ftp);
    return ftp;
  };
  const download = (source: string) =>
    curl([
      '--interface',
      source,
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/hello.txt`,
    ]);

  it("refuses the class's third login with ProFTPD's text; other classes and sessions go on; QUIT frees the slot", async () => {
    const first = await session('127.0.0.2');
    await first.login(backend.user, backend.password);
    const second = await session('127.0.0.3');
    await second.login(backend.user, backend.password);

    // The third guest: the password is accepted by the backend, the limit refuses it and the connection ends.
    const third = await session('127.0.0.2');
    expect(await third.reply()).toMatch(/^220/);
    expect(await third.command(`USER ${backend.user}`)).toMatch(/^331/);
    expect(await third.command(`PASS ${backend.password}`)).toBe(`530 ${CLASS_TEXT}`);
    expect(await third.closed()).toBe(true);
    // curl from the class's other address is refused as well (67: login denied).
    const refused = await download('127.0.0.3');
    expect(refused.code).toBe(67);

    // Another class, and a client of no class, are not counted against guests.
    const staff = await download('127.0.0.4');
    expect(staff.code).toBe(0);
    expect(staff.stdout.toString()).toBe('hello\n');
    const honest = await download('127.0.0.1');
    expect(honest.stdout.toString()).toBe('hello\n');
    // The staff class has its own count and message.
    const staffSession = await session('127.0.0.4');
    await staffSession.login(backend.user, backend.password);
    const secondStaff = await session('127.0.0.4');
    expect(await secondStaff.reply()).toMatch(/^220/);
    await secondStaff.command(`USER ${backend.user}`);
    expect(await secondStaff.command(`PASS ${backend.password}`)).toBe('530 Staff seats taken (1).');

    // The guests logged in are untouched.
    expect(await first.command('PWD')).toMatch(/^257/);
    expect(await second.command('NOOP')).toMatch(/^200/);

    // QUIT gives the slot back: a guest logs in again (the store hears of the release asynchronously,
    // so a login racing it may still be counted; a few tries within 5 s).
    expect(await second.command('QUIT')).toMatch(/^221/);
    expect(await second.closed()).toBe(true);
    let back = await download('127.0.0.3');
    for (let tries = 0; back.code !== 0 && tries < 10; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      back = await download('127.0.0.3');
    }
    expect(back.code).toBe(0);
    expect(back.stdout.toString()).toBe('hello\n');
    expect(await first.command('NOOP')).toMatch(/^200/);
  });
});
