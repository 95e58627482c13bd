import { describe, expect, it } from 'vitest';
import { authRequestSchema, authResponseSchema } from '../../../../../functions/contract/auth.js';
import {
  identityHookConfigSchema,
  identityHookResponseSchema,
  selectIdentityHook,
} from '../../../../../functions/core/auth/identity-hook.js';

const base = { pool: 'p', user: 'alice', clientAddress: '192.0.2.7', protocol: 'ftp' } as const;

describe('auth contract', () => {
  it('takes a password or a public key, not both, not neither', () => {
    expect(authRequestSchema.safeParse({ ...base, password: 'pw' }).success).toBe(true);
    expect(authRequestSchema.safeParse({ ...base, password: '' }).success).toBe(true);
    expect(
      authRequestSchema.safeParse({ ...base, protocol: 'sftp', publicKey: 'ssh-ed25519 AAAA x' }).success,
    ).toBe(true);
    const neither = authRequestSchema.safeParse(base);
    expect(neither.success).toBe(false);
    expect(neither.error?.issues[0]?.message).toBe(
      'give exactly one of password, publicKey and workerVerifiedKey',
    );
    expect(authRequestSchema.safeParse({ ...base, password: 'pw', publicKey: 'k' }).success).toBe(false);
  });

  it('takes workerVerifiedKey (a key the edge worker verified) alone, and only as true', () => {
    const sftp = { ...base, protocol: 'sftp' } as const;
    expect(authRequestSchema.safeParse({ ...sftp, workerVerifiedKey: true }).success).toBe(true);
    expect(authRequestSchema.safeParse({ ...sftp, workerVerifiedKey: false }).success).toBe(false);
    expect(authRequestSchema.safeParse({ ...sftp, workerVerifiedKey: true, password: '' }).success).toBe(
      false,
    );
    expect(
      authRequestSchema.safeParse({ ...sftp, workerVerifiedKey: true, publicKey: 'ssh-ed25519 AAAA x' })
        .success,
    ).toBe(false);
  });

  it('checks the client address, the protocol and unknown fields', () => {
    expect(
      authRequestSchema.safeParse({ ...base, password: 'pw', clientAddress: '2001:db8::1' }).success,
    ).toBe(true);
    expect(
      authRequestSchema.safeParse({ ...base, password: 'pw', clientAddress: 'example.com' }).success,
    ).toBe(false);
    expect(authRequestSchema.safeParse({ ...base, password: 'pw', protocol: 'http' }).success).toBe(false);
    expect(authRequestSchema.safeParse({ ...base, password: 'pw', extra: 1 }).success).toBe(false);
    expect(authRequestSchema.safeParse({ ...base, password: 'pw', user: 'a\r\nb' }).success).toBe(false);
  });

  it('describes allowed and denied answers', () => {
    expect(
      authResponseSchema.parse({
        allowed: true,
        user: 'alice',
        primaryGroup: 'staff',
        groups: ['staff'],
        source: 'store',
      }),
    ).toMatchObject({ allowed: true });
    expect(authResponseSchema.safeParse({ allowed: 'yes' }).success).toBe(false);
  });
});

describe('identity hook configuration', () => {
  it('requires https unless http is allowed explicitly', () => {
    expect(identityHookConfigSchema.parse({ url: 'https://idp.example/auth' })).toMatchObject({
      timeoutMs: 1500,
      allowInsecureHttp: false,
    });
    const http = identityHookConfigSchema.safeParse({ url: 'http://127.0.0.1:9000/auth' });
    expect(http.error?.issues[0]?.message).toMatch(/must be https/);
    expect(
      identityHookConfigSchema.safeParse({ url: 'http://127.0.0.1:9000/auth', allowInsecureHttp: true })
        .success,
    ).toBe(true);
    expect(identityHookConfigSchema.safeParse({ url: 'ftp://x/' }).success).toBe(false);
    expect(
      identityHookConfigSchema.safeParse({
        url: 'https://x/',
        secretHeader: { name: 'bad header', value: 'v' },
      }).success,
    ).toBe(false);
  });

  it('picks the hook naming the pool, else the global one', () => {
    const global = { url: 'https://global.example/' };
    const special = { url: 'https://special.example/', pools: ['special'] };
    expect(selectIdentityHook([special, global], 'special')).toBe(special);
    expect(selectIdentityHook([special, global], 'other')).toBe(global);
    expect(selectIdentityHook([special], 'other')).toBeUndefined();
    expect(selectIdentityHook(global, 'any')).toBe(global);
    expect(selectIdentityHook(undefined, 'any')).toBeUndefined();
  });

  it('validates the hook answer: backends must be backend URLs', () => {
    expect(
      identityHookResponseSchema.safeParse({ allow: true, backends: ['ftp://10.0.0.1:21'], extra: 'ignored' })
        .success,
    ).toBe(true);
    expect(identityHookResponseSchema.safeParse({ allow: true, backends: ['http://x/'] }).success).toBe(
      false,
    );
    expect(identityHookResponseSchema.safeParse({ allow: 'true' }).success).toBe(false);
    expect(identityHookResponseSchema.safeParse({}).success).toBe(false);
  });
});
