import { getDiffieHellman } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GroupExchangeError, ShortExponentDh } from '../../../../edge-worker/sftp/ssh2-group-exchange.js';

/** An 8192-bit safe prime of OpenSSH's moduli file, as a group exchange server sends it. */
function moduliPrime(bits: number): { prime: Buffer; generator: Buffer } {
  const line = readFileSync('/etc/ssh/moduli', 'utf8')
    .split('\n')
    .find((entry) => entry.split(' ')[4] === String(bits - 1));
  if (!line) throw new Error(`no ${bits}-bit group in /etc/ssh/moduli`);
  const fields = line.split(' ');
  return { prime: Buffer.from(fields[6] ?? '', 'hex'), generator: Buffer.from([Number(fields[5])]) };
}

describe('ShortExponentDh (group exchange without the synchronous prime check)', () => {
  it('two ends agree on the secret over an 8192-bit moduli group', () => {
    const { prime, generator } = moduliPrime(8192);
    const ours = new ShortExponentDh(prime, generator);
    const peer = new ShortExponentDh(prime, generator);
    expect(ours.computeSecret(peer.publicKey).equals(peer.computeSecret(ours.publicKey))).toBe(true);
    expect(ours.getPrime().equals(prime)).toBe(true);
  });

  it('agrees with Node DiffieHellman (the server side of the exchange) on a named group', () => {
    const node = getDiffieHellman('modp14');
    node.generateKeys();
    const ours = new ShortExponentDh(node.getPrime(), node.getGenerator());
    expect(ours.computeSecret(node.getPublicKey()).equals(node.computeSecret(ours.publicKey))).toBe(true);
  });

  it('refuses groups outside 2048-8192 bits, even moduli, bad generators and public values', () => {
    const small = getDiffieHellman('modp2'); // 1024 bits
    expect(() => new ShortExponentDh(small.getPrime(), Buffer.from([2]))).toThrow(GroupExchangeError);
    const { prime, generator } = moduliPrime(2048);
    const even = Buffer.from(prime);
    even[even.length - 1] = (even.at(-1) ?? 0) & 0xfe;
    expect(() => new ShortExponentDh(even, generator)).toThrow(/even/);
    expect(() => new ShortExponentDh(prime, Buffer.from([1]))).toThrow(/generator/);
    const dh = new ShortExponentDh(prime, generator);
    expect(() => dh.computeSecret(Buffer.from([1]))).toThrow(/public value/);
    const pMinusOne = Buffer.from(prime);
    pMinusOne[pMinusOne.length - 1] = (pMinusOne.at(-1) ?? 0) - 1;
    expect(() => dh.computeSecret(pMinusOne)).toThrow(/public value/);
  });
});
