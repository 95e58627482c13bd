import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAX_ACCEPTED_BCRYPT_COST } from '../../../../../functions/core/auth/bcrypt-hash.js';
import {
  constantTimeStringEqual,
  hashFormat,
  MAX_ACCEPTED_SHA_ROUNDS,
  md5Crypt,
  parseShaCryptSetting,
  sha256Crypt,
  sha512Crypt,
  verifyCrypt,
} from '../../../../../functions/core/auth/crypt.js';
import { checkPassword } from '../../../../../functions/core/auth/password-check.js';
import { hashPassword } from '../../../../../functions/core/registry/password-hash.js';

const run = promisify(execFile);

/** `openssl passwd -<variant> -salt <salt> <password>`: an independent implementation to agree with. */
async function opensslPasswd(variant: '1' | '5' | '6', salt: string, password: string): Promise<string> {
  const { stdout } = await run('openssl', ['passwd', `-${variant}`, '-salt', salt, password]);
  return stdout.trim();
}

const LONG = 'a very much longer text to encrypt.  This one even stretches over morethan one line.';
const SHORT_SALT_PW = 'we have a short salt string but not a short password';
const TOO_LOW = 'the minimum number is still observed';

/** The test vectors published with "Unix crypt using SHA-256 and SHA-512" (U. Drepper). */
const SPEC_SHA256: [setting: string, password: string, expected: string][] = [
  ['$5$saltstring', 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  [
    '$5$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA',
  ],
  [
    '$5$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5',
  ],
  [
    '$5$rounds=1400$anotherlongsaltstring',
    LONG,
    '$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1',
  ],
  [
    '$5$rounds=77777$short',
    SHORT_SALT_PW,
    '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/',
  ],
  [
    '$5$rounds=123456$asaltof16chars..',
    'a short string',
    '$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD',
  ],
  [
    '$5$rounds=10$roundstoolow',
    TOO_LOW,
    '$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC',
  ],
];

const SPEC_SHA512: [setting: string, password: string, expected: string][] = [
  [
    '$6$saltstring',
    'Hello world!',
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  ],
  [
    '$6$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    '$6$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    LONG,
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    '$6$rounds=77777$short',
    SHORT_SALT_PW,
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    '$6$rounds=123456$asaltof16chars..',
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    '$6$rounds=10$roundstoolow',
    TOO_LOW,
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
];

/** Passwords and salts run through openssl and through crypt.ts. */
const OPENSSL_CASES: { password: string; salt: string }[] = [
  { password: 'secret', salt: 'abcdefgh' },
  { password: '', salt: 'empty' },
  { password: 'p', salt: 's' },
  { password: 'exactly-sixteen!', salt: '0123456789abcdef' },
  { password: 'x'.repeat(32), salt: 'thirty2' },
  { password: 'y'.repeat(64), salt: 'sixty4' },
  { password: 'z'.repeat(100), salt: 'long./pw' },
  { password: 'pässwörd ✓ 密码', salt: 'utf8' },
  { password: 'colon:and$dollar', salt: 'Q./9zZ' },
];

describe('SHA-256-crypt and SHA-512-crypt', () => {
  it.each(SPEC_SHA256)('matches the specification vector %s', async (setting, password, expected) => {
    expect(await sha256Crypt(password, setting)).toBe(expected);
    expect(await verifyCrypt(password, expected)).toBe(true);
    expect(await verifyCrypt(`${password}x`, expected)).toBe(false);
  });

  it.each(SPEC_SHA512)('matches the specification vector %s', async (setting, password, expected) => {
    expect(await sha512Crypt(password, setting)).toBe(expected);
    expect(await verifyCrypt(password, expected)).toBe(true);
    expect(await verifyCrypt(password.slice(1), expected)).toBe(false);
  });

  it('agrees with openssl passwd -5 and -6, default rounds and rounds=', async () => {
    // openssl refuses an empty password for -5 / -6 (see the next test for one).
    const cases = OPENSSL_CASES.filter((item) => item.password !== '').flatMap(({ password, salt }) =>
      [salt, `rounds=1000$${salt}`, `rounds=5000$${salt}`, `rounds=2345$${salt}`].map((setting) => ({
        password,
        setting,
      })),
    );
    // openssl's answers all at once: 64 processes one after another outlast a loaded machine's timeout.
    const answers = await Promise.all(
      cases.map(async ({ password, setting }) => ({
        five: await opensslPasswd('5', setting, password),
        six: await opensslPasswd('6', setting, password),
      })),
    );
    for (const [index, { password, setting }] of cases.entries()) {
      const { five, six } = answers[index] as { five: string; six: string };
      expect(await sha256Crypt(password, `$5$${setting}`)).toBe(five);
      expect(await sha512Crypt(password, `$6$${setting}`)).toBe(six);
      expect(await verifyCrypt(password, five)).toBe(true);
      expect(await verifyCrypt(password, six)).toBe(true);
      expect(await verifyCrypt(`${password}!`, five)).toBe(false);
      expect(await verifyCrypt(`${password}!`, six)).toBe(false);
    }
  });

  it('hashes an empty password', async () => {
    // Computed by libc crypt(3).
    expect(await sha256Crypt('', '$5$empty')).toBe('$5$empty$3K9/D2YPFYWGxmrKN0aBSx.KoWwkHU6Pdzn3GnrLXz6');
    expect(await sha512Crypt('', '$6$rounds=1000$empty')).toBe(
      '$6$rounds=1000$empty$mD/mfMVeNHBUgTII19Wa60uGXYFiKQekh3g31uXM.1DkGrKMw1ICxo7N9UEq9xthpeZV2NXWk/C7RFot9C.JR.',
    );
  });

  it('keeps an explicit rounds=5000 and clamps rounds to the minimum', async () => {
    expect(await sha256Crypt('Hello world!', '$5$rounds=5000$saltstring')).toBe(
      '$5$rounds=5000$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5',
    );
    expect(parseShaCryptSetting('rounds=10$x$')).toEqual({ rounds: 1000, roundsCustom: true, salt: 'x' });
    expect(parseShaCryptSetting('rounds=9999999999$x')?.rounds).toBe(999_999_999);
    expect(parseShaCryptSetting('salt$hash')).toEqual({ rounds: 5000, roundsCustom: false, salt: 'salt' });
    expect(parseShaCryptSetting('rounds=abc$salt')).toBeUndefined();
    expect(parseShaCryptSetting('rounds=12salt')).toBeUndefined();
  });

  it('refuses hashes asking for more rounds than it accepts, or malformed', async () => {
    const costly = `$6$rounds=${MAX_ACCEPTED_SHA_ROUNDS + 1}$salt$whatever`;
    expect(await sha512Crypt('pw', costly)).toBeUndefined();
    expect(await verifyCrypt('pw', costly)).toBeUndefined();
    expect(await verifyCrypt('pw', '$5$rounds=x$salt$hash')).toBeUndefined();
    // A well-formed setting with a hash that is not the password's: a mismatch, not an error.
    expect(await verifyCrypt('pw', '$5$salt$notthehash')).toBe(false);
  });

  it('lets the event loop run during a long hash', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await sha512Crypt('pw', '$6$rounds=200000$slow');
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('MD5-crypt', () => {
  it('matches known values', () => {
    // Computed by libc crypt(3) (and openssl passwd -1).
    expect(md5Crypt('x', '$1$abc')).toBe('$1$abc$OGyl6dDvZCDiGmIVbeuCq/');
    expect(md5Crypt('', '$1$abc')).toBe('$1$abc$Or2rbeUYTvt12aiVzMuS/.');
    expect(md5Crypt('a'.repeat(100), '$1$12345678901')).toBe('$1$12345678$yHGf0oZf8H0kWFcG99n58.');
    expect(md5Crypt('pw', '$1$toolongsalt')).toBe('$1$toolongs$cARG.ecOrMi6EP6awI4Z50');
    expect(md5Crypt('pw', '$5$salt')).toBeUndefined();
  });

  it('agrees with openssl passwd -1', async () => {
    for (const { password, salt } of OPENSSL_CASES) {
      const expected = await opensslPasswd('1', salt, password);
      expect(md5Crypt(password, `$1$${salt}`)).toBe(expected);
      expect(md5Crypt(password, expected)).toBe(expected);
      expect(await verifyCrypt(password, expected)).toBe(true);
      expect(await verifyCrypt(`${password} `, expected)).toBe(false);
    }
  });
});

describe('hash formats', () => {
  it('tells formats apart by their prefix', () => {
    expect(hashFormat('scrypt$32768$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')).toBe('scrypt');
    expect(hashFormat('$1$abc$OGyl6dDvZCDiGmIVbeuCq/')).toBe('md5-crypt');
    expect(hashFormat('$5$s$h')).toBe('sha256-crypt');
    expect(hashFormat('$6$s$h')).toBe('sha512-crypt');
    expect(hashFormat('$2y$10$abcdefghijklmnopqrstuuOQh0vRJ4VjvQb3Tc.0nEqx8IQIKsD6')).toBe('bcrypt');
    expect(hashFormat('$2b$12$x')).toBe('bcrypt');
    expect(hashFormat('$y$j9T$salt$hash')).toBe('yescrypt');
    expect(hashFormat('$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA')).toBe('argon2');
    expect(hashFormat('abJnggxhB/yJU')).toBe('des-crypt');
    expect(hashFormat('!$6$s$h')).toBe('locked');
    expect(hashFormat('*')).toBe('locked');
    expect(hashFormat('')).toBe('empty');
    expect(hashFormat('plaintext?')).toBe('unknown');
  });

  it('checks scrypt and crypt hashes, and refuses the rest with a reason', async () => {
    const scrypt = await hashPassword('right', { N: 1024, r: 8, p: 1 });
    expect(await checkPassword('right', scrypt)).toEqual({ outcome: 'match', format: 'scrypt' });
    expect(await checkPassword('wrong', scrypt)).toEqual({ outcome: 'mismatch', format: 'scrypt' });
    const six = await opensslPasswd('6', 'rounds=2000$salty', 'right');
    expect(await checkPassword('right', six)).toEqual({ outcome: 'match', format: 'sha512-crypt' });
    expect(await checkPassword('wrong', six)).toEqual({ outcome: 'mismatch', format: 'sha512-crypt' });

    const bcrypt = '$2y$05$0123456789abcdefghijkeImLoEFAQpLAPQRUB8Ht5MuKX8R/sj4i';
    expect(await checkPassword('right', bcrypt)).toEqual({ outcome: 'match', format: 'bcrypt' });
    expect(await checkPassword('wrong', bcrypt)).toEqual({ outcome: 'mismatch', format: 'bcrypt' });
    const yescrypt = await checkPassword(
      'secret',
      '$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.',
    );
    expect(yescrypt).toMatchObject({ outcome: 'unsupported', format: 'yescrypt' });
    expect(yescrypt.detail).toMatch(/yescrypt \(\$y\$\) is not supported/);
    const des = await checkPassword('right', 'abJnggxhB/yJU');
    expect(des).toMatchObject({ outcome: 'unsupported', format: 'des-crypt' });
    expect(des.detail).toMatch(/des-crypt is not supported/);
    expect(await checkPassword('right', '!$6$s$h')).toMatchObject({
      outcome: 'unsupported',
      format: 'locked',
    });
    expect(await checkPassword('', '')).toMatchObject({ outcome: 'unsupported', format: 'empty' });
    expect(await checkPassword('right', 'scrypt$1$2$3')).toMatchObject({
      outcome: 'unsupported',
      detail: 'the stored scrypt hash is malformed',
    });
  });
});

/**
 * Hashes made by libxcrypt's crypt(3) (the C library behind Debian's /etc/shadow and ProFTPD's
 * AuthUserFile checks), through Python's crypt module: an independent implementation to agree with.
 */
const LIBXCRYPT_BCRYPT: [password: string, stored: string][] = [
  ['right', '$2b$05$abcdefghijklmnopqrstuu8xaCxxL82bnl.UY74PMksDxIJShppPC'],
  ['right', '$2y$05$0123456789abcdefghijkeImLoEFAQpLAPQRUB8Ht5MuKX8R/sj4i'],
  ['right', '$2a$06$ABCDEFGHIJKLMNOPQRSTUuHp5CxohUtN6Iv.BBbOTm/XZsZx2Y/0y'],
  ['pässwörd', '$2b$04$......................qnB8eqNMuizEQ3mLqW93JYyN8aQz3iO'],
  ['x'.repeat(80), '$2b$04$zyxwvutsrqponmlkjihgfeUIb02e2j50rSgXWN4Rr0POqFVytJFRu'],
];

describe('bcrypt', () => {
  it('verifies $2a$, $2b$ and $2y$ hashes made by libxcrypt, and refuses wrong passwords', async () => {
    for (const [password, stored] of LIBXCRYPT_BCRYPT) {
      expect(hashFormat(stored)).toBe('bcrypt');
      expect(await verifyCrypt(password, stored)).toBe(true);
      expect(
        await verifyCrypt(`${password}!`.slice(0, 72) === password ? 'other' : `${password}!`, stored),
      ).toBe(password.length >= 72);
    }
  });

  it('does not verify $2x$, malformed hashes or costs above the limit', async () => {
    const good = '$2b$05$abcdefghijklmnopqrstuu8xaCxxL82bnl.UY74PMksDxIJShppPC';
    expect(await verifyCrypt('right', good.replace('$2b$', '$2x$'))).toBeUndefined();
    expect(await verifyCrypt('right', good.slice(0, -1))).toBeUndefined();
    expect(
      await verifyCrypt('right', good.replace('$05$', `$${MAX_ACCEPTED_BCRYPT_COST + 1}$`)),
    ).toBeUndefined();
    const check = await checkPassword('right', good.replace('$05$', '$31$'));
    expect(check).toMatchObject({ outcome: 'unsupported', format: 'bcrypt' });
    expect(check.detail).toMatch(/cost above 14/);
  });
});

describe('constantTimeStringEqual', () => {
  it('compares contents, whatever the lengths', () => {
    expect(constantTimeStringEqual('$6$s$abc', '$6$s$abc')).toBe(true);
    expect(constantTimeStringEqual('$6$s$abc', '$6$s$abd')).toBe(false);
    expect(constantTimeStringEqual('$6$s$abc', '$6$s$abcd')).toBe(false);
    expect(constantTimeStringEqual('', '')).toBe(true);
    expect(constantTimeStringEqual('', 'x')).toBe(false);
    expect(constantTimeStringEqual('é', 'e\u0301')).toBe(false);
  });
});
