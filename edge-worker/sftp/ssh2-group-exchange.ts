import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomBytes } from 'node:crypto';
import type { Client } from 'ssh2';

/**
 * diffie-hellman-group-exchange-* as a client, without freezing the worker.
 *
 * ssh2 builds the exchange with `crypto.createDiffieHellman(prime, generator)`, and Node checks a
 * prime it does not know (OpenSSL's DH_check: 64 Miller-Rabin rounds on p and on (p-1)/2) right
 * there, synchronously: measured on a 2-core test machine, 1.2 s for a 2048-bit group, 7 s for
 * 3072, 16 s for 4096 and about 140 s for the 8192-bit groups of OpenSSH's and mod_sftp's moduli,
 * during which every other session of the worker stands still (mscdex/ssh2#1386). OpenSSH's own
 * client does not test the prime either: it checks the group's size and the peer's public value, and
 * uses a private exponent of twice the needed security bits (dh.c, dh_gen_key). That is what this
 * does, with OpenSSL's DH through key objects (no DH_check): about 0.1 s for an 8192-bit group.
 *
 * ssh2 offers no hook for it, so the exchange object it creates for this connection is given these
 * methods when ssh2 stores it on the connection's protocol (`_kex`); nothing global changes.
 */

/** The group sizes ssh2 asks for (RFC 8270: 2048 to 8192 bits); a reply outside them is refused. */
const MIN_GROUP_BITS = 2048;
const MAX_GROUP_BITS = 8192;
/** Private exponent bits: twice the 256-bit strength of the strongest ciphers, as OpenSSH picks. */
const EXPONENT_BITS = 512;

/** The backend offered a group exchange ftpx refuses (out-of-range size, bad generator or value). */
export class GroupExchangeError extends Error {
  override readonly name = 'GroupExchangeError';
}

interface GroupExchange {
  type: string;
  _prime: Buffer | null;
  _generator: Buffer | null;
  _dh: unknown;
  _public: Buffer | null;
  generateKeys(): void;
}

/** Makes `client`'s key exchanges (first and rekeys) use the exchange above. Call right after `connect()`. */
export function useFastGroupExchange(client: Client): boolean {
  const protocol = (client as unknown as { _protocol?: Record<string, unknown> })._protocol;
  if (!protocol || !('_kex' in protocol)) return false;
  let kex = protocol._kex as GroupExchange | undefined;
  Object.defineProperty(protocol, '_kex', {
    configurable: true,
    enumerable: true,
    get: () => kex,
    set: (value: GroupExchange | undefined) => {
      if (value?.type === 'groupex') value.generateKeys = generateKeys;
      kex = value;
    },
  });
  return true;
}

function generateKeys(this: GroupExchange): void {
  if (this._dh || !this._prime || !this._generator) return;
  const dh = new ShortExponentDh(this._prime, this._generator);
  this._dh = dh;
  this._public = dh.publicKey;
}

/** The subset of Node's DiffieHellman that ssh2's exchange uses, on key objects. */
export class ShortExponentDh {
  readonly publicKey: Buffer;
  private readonly prime: Buffer;
  private readonly generator: Buffer;
  private readonly privateKey: KeyObject;

  constructor(prime: Buffer, generator: Buffer) {
    this.prime = unsigned(prime);
    this.generator = unsigned(generator);
    const bits = bitLength(this.prime);
    if (bits < MIN_GROUP_BITS || bits > MAX_GROUP_BITS) {
      throw new GroupExchangeError(
        `the server's DH group has ${bits} bits, outside the ${MIN_GROUP_BITS}-${MAX_GROUP_BITS} asked for`,
      );
    }
    if ((this.prime.at(-1) ?? 0) % 2 === 0) throw new GroupExchangeError("the server's DH modulus is even");
    if (!between(this.generator, this.prime)) {
      throw new GroupExchangeError("the server's DH generator is out of range");
    }
    const exponent = randomBytes(EXPONENT_BITS / 8);
    exponent[0] = (exponent[0] ?? 0) | 0x80;
    this.privateKey = createPrivateKey({
      key: der(0x30, [der(0x02, [Buffer.from([0])]), this.algorithm(), der(0x04, [integer(exponent)])]),
      format: 'der',
      type: 'pkcs8',
    });
    // OpenSSL computes g^x mod p when it loads the private key; the SPKI's bit string holds y.
    this.publicKey = lastInteger(createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' }));
  }

  getPrime(): Buffer {
    return this.prime;
  }

  getGenerator(): Buffer {
    return this.generator;
  }

  computeSecret(other: Buffer): Buffer {
    const value = unsigned(other);
    if (!between(value, this.prime))
      throw new GroupExchangeError("the server's DH public value is out of range");
    const publicKey = createPublicKey({
      key: der(0x30, [this.algorithm(), der(0x03, [Buffer.from([0]), integer(value)])]),
      format: 'der',
      type: 'spki',
    });
    return diffieHellman({ privateKey: this.privateKey, publicKey });
  }

  /** AlgorithmIdentifier: dhKeyAgreement (PKCS #3) with DHParameter { p, g }. */
  private algorithm(): Buffer {
    const dhKeyAgreement = Buffer.from('06092a864886f70d010301', 'hex');
    return der(0x30, [dhKeyAgreement, der(0x30, [integer(this.prime), integer(this.generator)])]);
  }
}

/** 1 < value < p - 1, both big-endian without leading zeros. */
function between(value: Buffer, prime: Buffer): boolean {
  const v = BigInt(`0x${value.toString('hex') || '0'}`);
  const p = BigInt(`0x${prime.toString('hex')}`);
  return v > 1n && v < p - 1n;
}

function unsigned(buf: Buffer): Buffer {
  let start = 0;
  while (start < buf.length - 1 && buf[start] === 0) start += 1;
  return buf.subarray(start);
}

function bitLength(buf: Buffer): number {
  const first = buf[0] ?? 0;
  return first === 0 ? 0 : (buf.length - 1) * 8 + (32 - Math.clz32(first));
}

function der(tag: number, parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length = body.length;
  let head: number[];
  if (length < 0x80) head = [length];
  else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    head = [0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from([tag, ...head]), body]);
}

function integer(value: Buffer): Buffer {
  const digits = unsigned(value);
  return der(0x02, [(digits[0] ?? 0) & 0x80 ? Buffer.from([0]) : Buffer.alloc(0), digits]);
}

/** The public value y: the INTEGER inside the SPKI's BIT STRING, which ends the document. */
function lastInteger(spki: Buffer): Buffer {
  // SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING { 0x00, INTEGER y } }: walk to the bit string.
  let offset = 0;
  const readHeader = (): { tag: number; length: number } => {
    const tag = spki[offset] ?? 0;
    let length = spki[offset + 1] ?? 0;
    offset += 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let i = 0; i < count; i += 1) length = length * 256 + (spki[offset + i] ?? 0);
      offset += count;
    }
    return { tag, length };
  };
  readHeader(); // the outer SEQUENCE
  const algorithm = readHeader();
  offset += algorithm.length;
  readHeader(); // BIT STRING
  offset += 1; // unused-bits byte
  const y = readHeader();
  if (y.tag !== 0x02) throw new GroupExchangeError('unexpected DH public key encoding');
  return unsigned(spki.subarray(offset, offset + y.length));
}
