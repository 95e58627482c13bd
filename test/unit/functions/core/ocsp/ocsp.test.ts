import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../../../edge-worker/tls/lru-cache.js';
import { sessionSummary } from '../../../../../edge-worker/tls/session-summary.js';
import {
  children,
  decode,
  encode,
  enumerated,
  explicit,
  nullValue,
  octetString,
  oid,
  readOid,
  sequence,
  TAG,
  unsignedInteger,
} from '../../../../../functions/core/ocsp/der.js';
import { EXPIRE_AFTER_STALE_MS, freshnessOf } from '../../../../../functions/core/ocsp/freshness.js';
import {
  buildOcspRequest,
  fakeTryLaterResponse,
  OcspError,
  parseOcspResponse,
} from '../../../../../functions/core/ocsp/ocsp-message.js';
import { seededRandom } from '../../../../../functions/core/random.js';

const id = {
  issuerNameHash: Buffer.alloc(20, 1),
  issuerKeyHash: Buffer.alloc(20, 2),
  serial: Buffer.from([0x10, 0x01]),
};
const time = (ms: number) =>
  encode(
    TAG.GENERALIZED_TIME,
    Buffer.from(`${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`),
  );

/** A BasicOCSPResponse for `id`, signed with a fresh key (the signer is not verified here). */
function response(
  status: 'good' | 'revoked',
  thisUpdate: number,
  nextUpdate?: number,
  nonce?: Buffer,
): Buffer {
  const certStatus =
    status === 'good' ? encode(0x80, Buffer.alloc(0)) : encode(0xa1, time(thisUpdate - 1000));
  const single = sequence(
    sequence(
      sequence(oid('1.3.14.3.2.26'), nullValue()),
      octetString(id.issuerNameHash),
      octetString(id.issuerKeyHash),
      unsignedInteger(id.serial),
    ),
    certStatus,
    time(thisUpdate),
    ...(nextUpdate !== undefined ? [explicit(0, time(nextUpdate))] : []),
  );
  const extensions = nonce
    ? [explicit(1, sequence(sequence(oid('1.3.6.1.5.5.7.48.1.2'), octetString(octetString(nonce)))))]
    : [];
  const tbs = sequence(
    explicit(2, octetString(Buffer.alloc(20, 3))),
    time(thisUpdate),
    sequence(single),
    ...extensions,
  );
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signature = sign('sha256', tbs, privateKey);
  const basic = sequence(
    tbs,
    sequence(oid('1.2.840.10045.4.3.2')),
    encode(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), signature])),
  );
  return sequence(enumerated(0), explicit(0, sequence(oid('1.3.6.1.5.5.7.48.1.1'), octetString(basic))));
}

describe('OCSP messages', () => {
  it('builds a request with the SHA-1 CertID and, when asked, a nonce extension', () => {
    const nonce = Buffer.alloc(16, 9);
    const [tbs] = children(decode(buildOcspRequest(id, nonce)));
    const [requestList, extensions] = children(tbs as never);
    const [request] = children(requestList as never);
    const [certId] = children(request as never);
    const [algorithm, nameHash, keyHash, serial] = children(certId as never);
    expect(readOid(children(algorithm as never)[0] as never)).toBe('1.3.14.3.2.26');
    expect(nameHash?.content.equals(id.issuerNameHash)).toBe(true);
    expect(keyHash?.content.equals(id.issuerKeyHash)).toBe(true);
    expect(serial?.content.toString('hex')).toBe('1001');
    expect(extensions?.tag).toBe(0xa2);
    expect(buildOcspRequest(id).includes(Buffer.from('2b0601050507300102', 'hex'))).toBe(false);
  });

  it('reads status, times and nonce of a basic response', () => {
    const now = Date.UTC(2026, 10, 21, 9);
    const nonce = Buffer.alloc(16, 5);
    const parsed = parseOcspResponse(response('revoked', now, now + 600_000, nonce));
    expect(parsed.responseStatus).toBe('successful');
    const single = parsed.basic?.responses[0];
    expect(single).toMatchObject({
      certStatus: 'revoked',
      thisUpdate: now,
      nextUpdate: now + 600_000,
      revokedAt: now - 1000,
    });
    expect(single?.certId.serial.toString('hex')).toBe('1001');
    expect(parsed.basic?.nonce?.equals(nonce)).toBe(true);
    expect(parseOcspResponse(response('good', now)).basic?.responses[0]?.nextUpdate).toBeUndefined();
  });

  it("reads mod_tls's fake tryLater, and refuses garbage with an OcspError", () => {
    expect(fakeTryLaterResponse().toString('hex')).toBe('30030a0103');
    expect(parseOcspResponse(fakeTryLaterResponse())).toEqual({ responseStatus: 'tryLater' });
    expect(() => parseOcspResponse(Buffer.from('<html>'))).toThrow(OcspError);
    expect(() => parseOcspResponse(sequence(enumerated(4)))).toThrow(/unknown responseStatus 4/);
    expect(() => parseOcspResponse(sequence(enumerated(0)))).toThrow(
      /successful response without responseBytes/,
    );
  });

  it('turns every parse failure of a damaged response into an OcspError (bounded, seeded)', () => {
    const random = seededRandom(5);
    const now = Date.UTC(2026, 10, 21, 9);
    const valid = response('good', now, now + 600_000, Buffer.alloc(16, 1));
    let refused = 0;
    for (let round = 0; round < 1500; round++) {
      const damaged = Buffer.from(valid);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
      }
      const input = random() < 0.3 ? damaged.subarray(0, Math.floor(random() * damaged.length)) : damaged;
      try {
        parseOcspResponse(input);
      } catch (err) {
        expect(err).toBeInstanceOf(OcspError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('OCSP freshness (TLSStaplingCache)', () => {
  const fetched = 1_000_000;
  it('is stale at half of the validity window and expired at nextUpdate', () => {
    expect(freshnessOf({ successful: true, thisUpdate: 0, nextUpdate: 600_000 }, fetched)).toEqual({
      staleAt: 300_000,
      expiresAt: 600_000,
    });
  });
  it('without nextUpdate: stale an hour after the fetch', () => {
    expect(freshnessOf({ successful: true, thisUpdate: 0 }, fetched)).toEqual({
      staleAt: fetched + 3_600_000,
      expiresAt: fetched + 3_600_000 + EXPIRE_AFTER_STALE_MS,
    });
  });
  it('unsuccessful (tryLater, fake or real): stale after five minutes', () => {
    expect(freshnessOf({ successful: false }, fetched).staleAt).toBe(fetched + 300_000);
  });
});

describe('edge-local LRU', () => {
  it('drops the least recently used first, by count and by bytes, and expired entries on read', () => {
    let now = 0;
    const lru = new LruCache<string>({ maxEntries: 2, maxBytes: 100 }, () => now);
    lru.set('a', 'A', 1000, 10);
    lru.set('b', 'B', 1000, 10);
    expect(lru.get('a')).toBe('A');
    lru.set('c', 'C', 1000, 10);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    lru.set('d', 'D', 1000, 95);
    expect([lru.get('a'), lru.get('c'), lru.get('d')]).toEqual([undefined, undefined, 'D']);
    lru.set('too-big', 'X', 1000, 101);
    expect(lru.get('too-big')).toBeUndefined();
    now = 1000;
    expect(lru.get('d')).toBeUndefined();
    expect(lru.size).toBe(0);
    expect(lru.bytes).toBe(0);
  });
});

describe('session summary', () => {
  it('reads the protocol and start time of a serialised session, and nothing from garbage', () => {
    const der = sequence(
      unsignedInteger(Buffer.from([1])),
      unsignedInteger(Buffer.from([0x03, 0x04])),
      octetString(Buffer.from([0x13, 0x02])),
      octetString(Buffer.alloc(32)),
      octetString(Buffer.alloc(48)),
      explicit(1, unsignedInteger(Buffer.from([0x69, 0x20, 0x27, 0x80]))),
    );
    expect(sessionSummary(der)).toEqual({ protocol: 'TLSv1.3', startedAt: 0x69202780 * 1000 });
    expect(sessionSummary(Buffer.from('nope'))).toEqual({});
  });
});
