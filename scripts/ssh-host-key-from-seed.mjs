// An Ed25519 SSH host key (OpenSSH private key format, unencrypted) derived from a secret seed read
// on standard input: the key is SHA-256(seed). The CDK stack keeps the seed in Secrets Manager, where
// it is generated once (infra/lib/edge-secrets.ts), so every task of every deployment derives the
// same host key and clients that pinned it keep trusting the proxy. Used by the container entrypoint.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

const seedText = readFileSync(0, 'utf8');
if (seedText.length < 32) {
  process.stderr.write('ssh-host-key-from-seed: the seed must be at least 32 characters\n');
  process.exit(2);
}
const seed = createHash('sha256').update(seedText, 'utf8').digest();
// PKCS#8 wrapping of a raw Ed25519 private key (RFC 8410).
const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
const publicRaw = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x, 'base64url');

const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const string = (value) => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([u32(bytes.length), bytes]);
};
const keyType = 'ssh-ed25519';
const publicBlob = Buffer.concat([string(keyType), string(publicRaw)]);
// The check integers only detect a wrong passphrase; any fixed value will do for an unencrypted key.
const check = seed.subarray(0, 4);
let privateSection = Buffer.concat([
  check,
  check,
  string(keyType),
  string(publicRaw),
  string(Buffer.concat([seed, publicRaw])),
  string('ftpx host key'),
]);
for (let i = 1; privateSection.length % 8 !== 0; i += 1) {
  privateSection = Buffer.concat([privateSection, Buffer.from([i])]);
}
// openssh-key-v1 (OpenSSH's PROTOCOL.key): magic, cipher none, kdf none, one key.
const body = Buffer.concat([
  Buffer.from('openssh-key-v1\0'),
  string('none'),
  string('none'),
  string(''),
  u32(1),
  string(publicBlob),
  string(privateSection),
]);
const base64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
process.stdout.write(`-----BEGIN OPENSSH PRIVATE KEY-----\n${base64}-----END OPENSSH PRIVATE KEY-----\n`);
