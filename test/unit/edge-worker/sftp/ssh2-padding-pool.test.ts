import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// patches/ssh2+1.17.0.patch takes each packet's random padding (RFC 4253 section 6) from a pool
// refilled in 16 KiB blocks; these tests hold the pool to what a call per packet gave.
const require = createRequire(import.meta.url);
const cryptoPath = require.resolve('ssh2/lib/protocol/crypto.js');
const { NullCipher } = require(cryptoPath) as {
  NullCipher: new (
    seqno: number,
    onWrite: (data: Buffer) => void,
  ) => { allocPacket(payloadLen: number): Buffer };
};

// A 32 KiB payload (a full SFTP data packet) gets 11 padding bytes under the 8-byte block of the
// null cipher, so about 1,490 packets use up one pool block: 5,000 cross three refills.
const PAYLOAD = 32 * 1024;
const PACKETS = 5000;

function paddings(): Buffer[] {
  const cipher = new NullCipher(0, () => {});
  const out: Buffer[] = [];
  for (let i = 0; i < PACKETS; i++) {
    const packet = cipher.allocPacket(PAYLOAD);
    const padLen = packet[4] ?? 0;
    out.push(Buffer.from(packet.subarray(5 + PAYLOAD, 5 + PAYLOAD + padLen)));
  }
  return out;
}

describe('ssh2 random padding pool', () => {
  it('is the patched ssh2', () => {
    expect(readFileSync(cryptoPath, 'utf8')).toContain('function randomPadding(');
  });

  it('gives every packet its own padding, across pool refills', () => {
    const pads = paddings();
    expect(pads.every((pad) => pad.length === 11)).toBe(true);
    // 88 random bits each: a repeat means pool bytes were handed out twice.
    expect(new Set(pads.map((pad) => pad.toString('hex'))).size).toBe(PACKETS);
  });

  it('fills the padding with random bytes, not a constant or a short cycle', () => {
    const all = Buffer.concat(paddings());
    const counts = new Array<number>(256).fill(0);
    for (const byte of all) counts[byte] = (counts[byte] ?? 0) + 1;
    // 55,000 uniform bytes: about 215 of each value; every value shows up, none dominates.
    expect(counts.every((count) => count > 100 && count < 400)).toBe(true);
  });
});
