import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BansConfig,
  bansSchema,
  connectionLimitsSchema,
} from '../../../../edge-worker/config/limits-schema.js';
import type { ControlPlaneClient } from '../../../../edge-worker/control-plane/control-plane-client.js';
import { createInProcessControlPlane } from '../../../../edge-worker/control-plane/in-process-transport.js';
import { startEmbeddedStore } from '../../../../edge-worker/embedded/store-server.js';
import { AbuseDefences } from '../../../../edge-worker/limits/abuse-defences.js';
import { type Admission, isRefused } from '../../../../edge-worker/limits/connection-guard.js';
import { Logger } from '../../../../edge-worker/log/logger.js';
import { addBan, canonicalBanValue, InvalidBanError } from '../../../../functions/core/bans/index.js';
import { createDynamoDbClient } from '../../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../../functions/core/store/table.js';

/**
 * ConnectionGuard (edge-worker/limits/) against the real abuse handler over a dynalite store: the
 * order of ProFTPD's checks, the pre-login caps, counts given back, ban matching (hosts, networks,
 * users, classes), and the hook that ends a session its own event banned.
 */

let stop: () => Promise<void>;
let table: Table;
let controlPlane: ControlPlaneClient;
const lines: string[] = [];
const log = new Logger({ write: (line) => lines.push(line) }, 'debug');
let tableNumber = 0;

beforeAll(async () => {
  const store = await startEmbeddedStore(undefined);
  stop = () => store.close();
  table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
  await ensureTable(table);
  controlPlane = createInProcessControlPlane(table);
});

afterAll(async () => {
  table?.client.destroy();
  await stop?.();
});

/** A fresh set of defences; `scope` keeps each test's counts apart in the shared store. */
function defences(bans: Partial<BansConfig> = {}) {
  const made = new AbuseDefences(controlPlane, bansSchema.parse({ pollInterval: '1m', ...bans }), log);
  const scope = `unit-${++tableNumber}`;
  return {
    made,
    guard: (
      limits: Record<string, unknown>,
      classOf: (address: string) => string | undefined = () => undefined,
    ) => made.guardFor(connectionLimitsSchema.parse(limits), scope, classOf),
  };
}

async function admitted(result: ReturnType<ReturnType<ReturnType<typeof defences>['guard']>['admit']>) {
  const value = await result;
  if (isRefused(value)) throw new Error(`refused: ${value.reason}`);
  return value as Admission;
}

describe('ConnectionGuard', () => {
  it('caps connections not logged in per address and in total; a login or an end frees the place', async () => {
    const { guard, made } = defences();
    const limits = guard({ maxUnauthenticated: 3, maxUnauthenticatedPerHost: 2 });
    const first = await admitted(limits.admit('192.0.2.1'));
    const second = await admitted(limits.admit('::ffff:192.0.2.1'));
    const third = await limits.admit('192.0.2.1');
    expect(third).toMatchObject({
      refused: true,
      reason: 'pre-login cap',
      refusal: { code: 421, text: 'Too many connections waiting to log in; try again later.' },
    });
    const other = await admitted(limits.admit('192.0.2.2'));
    expect(await limits.admit('192.0.2.3')).toMatchObject({ refused: true, reason: 'pre-login cap' });
    expect(await first.loggedIn('alice')).toBeUndefined();
    const again = await admitted(limits.admit('192.0.2.1'));
    other.end();
    other.end();
    await admitted(limits.admit('192.0.2.3'));
    for (const admission of [first, second, again]) admission.end();
    await made.stop();
  });

  it('MaxInstances closes without a reply; MaxConnectionsPerHost answers with its text and gives slots back', async () => {
    const { guard, made } = defences();
    const limits = guard({
      maxInstances: 3,
      maxConnectionsPerHost: { max: 2, message: 'At most %m from you.' },
    });
    const held = [await admitted(limits.admit('198.51.100.1')), await admitted(limits.admit('198.51.100.1'))];
    expect(await limits.admit('198.51.100.1')).toMatchObject({
      refused: true,
      reason: 'MaxConnectionsPerHost',
      refusal: { code: 530, text: 'At most 2 from you.' },
    });
    const third = await admitted(limits.admit('198.51.100.2'));
    expect(await limits.admit('198.51.100.3')).toEqual({
      refused: true,
      refusal: undefined,
      reason: 'MaxInstances',
    });
    held[0]?.end();
    const back = await admitted(limits.admit('198.51.100.1'));
    for (const admission of [held[1], third, back]) admission?.end();
    await made.stop();
  });

  it('checks the login limits in ProFTPD order and refuses past the limit with its text', async () => {
    const { guard, made } = defences();
    const limits = guard({
      maxClientsPerHost: 2,
      maxClientsPerUser: { max: 3, message: 'Only %m sessions as this user.' },
      maxClients: 4,
      maxHostsPerUser: 2,
    });
    const login = async (host: string, user: string) => {
      const admission = await admitted(limits.admit(host));
      return { admission, refusal: await admission.loggedIn(user) };
    };
    const a1 = await login('203.0.113.1', 'alice');
    const a2 = await login('203.0.113.1', 'alice');
    expect([a1.refusal, a2.refusal]).toEqual([undefined, undefined]);
    // MaxClientsPerHost comes first.
    const a3 = await login('203.0.113.1', 'alice');
    expect(a3.refusal).toEqual({
      code: 530,
      text: 'Sorry, the maximum number of clients (2) from your host are already connected.',
    });
    a3.admission.end();
    // A second host for alice is fine, a third is MaxHostsPerUser's... after MaxClientsPerUser (3).
    const b1 = await login('203.0.113.2', 'alice');
    expect(b1.refusal).toBeUndefined();
    const c1 = await login('203.0.113.3', 'alice');
    expect(c1.refusal).toEqual({ code: 530, text: 'Only 3 sessions as this user.' });
    c1.admission.end();
    const d1 = await login('203.0.113.4', 'bob');
    expect(d1.refusal).toBeUndefined();
    const e1 = await login('203.0.113.5', 'carol');
    expect(e1.refusal).toEqual({
      code: 530,
      text: 'Sorry, the maximum number of allowed clients (4) are already connected.',
    });
    e1.admission.end();
    // Logging out gives the login slots back at once.
    b1.admission.loggedOut();
    const f1 = await login('203.0.113.5', 'carol');
    expect(f1.refusal).toBeUndefined();
    for (const session of [a1, a2, b1, d1, f1]) session.admission.end();
    await made.stop();
  });

  it('MaxClientsPerClass counts each class apart, before MaxClientsPerHost, and leaves classless clients alone', async () => {
    const { guard, made } = defences();
    const classOf = (address: string) =>
      address.startsWith('203.0.113.') ? 'guests' : address.startsWith('198.51.100.') ? 'staff' : undefined;
    const limits = guard(
      {
        maxClientsPerClass: [
          { class: 'guests', max: 2 },
          { class: 'staff', max: 1, message: 'Staff seats: %m.' },
        ],
        maxClientsPerHost: 1,
      },
      classOf,
    );
    const login = async (host: string, user: string) => {
      const admission = await admitted(limits.admit(host));
      return { admission, refusal: await admission.loggedIn(user) };
    };
    const g1 = await login('203.0.113.1', 'alice');
    const g2 = await login('203.0.113.2', 'bob');
    expect([g1.refusal, g2.refusal]).toEqual([undefined, undefined]);
    // The third guest is over both its class and (same host as g1) MaxClientsPerHost: the class comes first.
    const g3 = await login('203.0.113.1', 'carol');
    expect(g3.refusal).toEqual({
      code: 530,
      text: 'Sorry, the maximum number of clients (2) from your class are already connected.',
    });
    g3.admission.end();
    expect(lines.some((line) => line.includes('Connection refused (MaxClientsPerClass guests 2)'))).toBe(
      true,
    );
    // Another class has its own count and its own message.
    const s1 = await login('198.51.100.1', 'dave');
    expect(s1.refusal).toBeUndefined();
    const s2 = await login('198.51.100.2', 'erin');
    expect(s2.refusal).toEqual({ code: 530, text: 'Staff seats: 1.' });
    s2.admission.end();
    // Clients of no class are not counted by any class limit.
    const others = [
      await login('192.0.2.10', 'x'),
      await login('192.0.2.11', 'y'),
      await login('192.0.2.12', 'z'),
    ];
    expect(others.map((other) => other.refusal)).toEqual([undefined, undefined, undefined]);
    // A logout gives the class slot back.
    g2.admission.loggedOut();
    const g4 = await login('203.0.113.3', 'frank');
    expect(g4.refusal).toBeUndefined();
    for (const session of [g1, g2, s1, g4, ...others]) session.admission.end();
    await made.stop();
  });

  it('BanOnEvent MaxClientsPerClass bans the class, as mod_ban does: its other addresses too, no other class', async () => {
    const { guard, made } = defences({
      message: 'Class %c is banned.',
      rules: bansSchema.parse({
        rules: [{ event: 'MaxClientsPerClass', count: 1, window: '1m', duration: '1m' }],
      }).rules,
    });
    await made.start();
    const classOf = (address: string) => (address.startsWith('203.0.113.') ? 'crowd' : 'calm');
    const limits = guard({ maxClientsPerClass: [{ class: 'crowd', max: 1 }] }, classOf);
    const first = await admitted(limits.admit('203.0.113.20'));
    expect(await first.loggedIn('alice')).toBeUndefined();
    const second = await admitted(limits.admit('203.0.113.21'));
    expect(await second.loggedIn('bob')).toMatchObject({ code: 530 });
    second.end();
    let refused = await limits.admit('203.0.113.22');
    for (let i = 0; i < 50 && !isRefused(refused); i++) {
      (refused as Admission).end();
      await new Promise((resolve) => setTimeout(resolve, 50));
      refused = await limits.admit('203.0.113.22');
    }
    expect(refused).toMatchObject({ refused: true, refusal: { text: 'Class crowd is banned.' } });
    const calm = await admitted(limits.admit('192.0.2.20'));
    expect(await calm.loggedIn('carol')).toBeUndefined();
    for (const admission of [first, calm]) admission.end();
    await made.stop();
  });

  it('matches host, network (IPv4 and IPv6), user and class bans, with BanMessage filled in', async () => {
    const now = Date.now();
    for (const [kind, value] of [
      ['host', '192.0.2.77'],
      ['host', '10.1.0.0/16'],
      ['host', '2001:DB8:0:0::/48'],
      ['user', 'mallory'],
      ['class', 'scanners'],
    ] as const)
      await addBan(table, { kind, value, reason: 'unit' }, now);
    await addBan(table, { kind: 'host', value: '192.0.2.78', reason: 'unit', durationMs: 1000 }, now - 5000);
    const { guard, made } = defences({ message: 'Banned %a as %u (%c)' });
    await made.start();
    const limits = guard({}, (address) => (address.startsWith('172.16.') ? 'scanners' : undefined));
    expect(await limits.admit('::ffff:192.0.2.77')).toMatchObject({
      refused: true,
      refusal: { code: 530, text: 'Banned 192.0.2.77 as (none) ((none))' },
    });
    expect(await limits.admit('10.1.255.9')).toMatchObject({ refused: true });
    expect(await limits.admit('2001:db8:0:ffff::1')).toMatchObject({ refused: true });
    expect(await limits.admit('172.16.0.1')).toMatchObject({
      refused: true,
      refusal: { text: 'Banned 172.16.0.1 as (none) (scanners)' },
    });
    // Outside every network, and a ban that expired.
    const free = [
      await admitted(limits.admit('10.2.0.1')),
      await admitted(limits.admit('2001:db8:1::1')),
      await admitted(limits.admit('192.0.2.78')),
    ];
    expect(await free[0]?.loggedIn('mallory')).toEqual({
      code: 530,
      text: 'Banned 10.2.0.1 as mallory ((none))',
    });
    expect(await free[1]?.loggedIn('alice')).toBeUndefined();
    for (const admission of free) admission?.end();
    await made.stop();
  });

  it("ends the session whose own event banned its client, and no other client's", async () => {
    const { guard, made } = defences({
      message: 'Go away, %a.',
      rules: bansSchema.parse({
        rules: [{ event: 'UnhandledCommand', count: 2, window: '1m', duration: '1m' }],
      }).rules,
    });
    await made.start();
    const limits = guard({});
    const ended: string[] = [];
    const watch = async (host: string) => {
      const admission = await admitted(limits.admit(host));
      admission.whenBanned((refusal) => ended.push(`${host} ${refusal.code} ${refusal.text}`));
      return admission;
    };
    const sprayer = await watch('192.0.2.90');
    const bystander = await watch('192.0.2.91');
    bystander.event('UnhandledCommand');
    sprayer.event('UnhandledCommand');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ended).toEqual([]);
    sprayer.event('UnhandledCommand');
    for (let i = 0; i < 50 && ended.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toEqual(['192.0.2.90 421 Go away, 192.0.2.90.']);
    expect(await limits.admit('192.0.2.90')).toMatchObject({
      refused: true,
      refusal: { text: 'Go away, 192.0.2.90.' },
    });
    // A session that already ended is not told again.
    const late = await watch('192.0.2.92');
    late.end();
    late.event('UnhandledCommand');
    late.event('UnhandledCommand');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ended).toHaveLength(1);
    for (const admission of [sprayer, bystander]) admission.end();
    await made.stop();
  });
});

describe('canonicalBanValue', () => {
  it('writes networks canonically and refuses host bits and bad prefixes', () => {
    expect(canonicalBanValue('host', '203.0.113.0/24')).toBe('203.0.113.0/24');
    expect(canonicalBanValue('host', '2001:DB8:0:0:0:0:0:0/32')).toBe('2001:db8::/32');
    expect(canonicalBanValue('host', '192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalBanValue('user', 'Alice/B')).toBe('Alice/B');
    expect(() => canonicalBanValue('host', '203.0.113.1/24')).toThrow(InvalidBanError);
    expect(() => canonicalBanValue('host', '203.0.113.0/33')).toThrow(/prefix length/);
    expect(() => canonicalBanValue('host', 'example.com/8')).toThrow(InvalidBanError);
  });
});
