import { describe, expect, it } from 'vitest';
import { backendUrlSchema, tokenCreateSchema } from '../../../../../functions/contract/registry.js';
import {
  allowsPool,
  bearerToken,
  hasScope,
  principalFromGateway,
} from '../../../../../functions/core/registry/auth.js';
import { applyPatch } from '../../../../../functions/core/registry/backend-mappings.js';
import { generateBackendId } from '../../../../../functions/core/registry/backends.js';
import {
  generateTokenSecret,
  hashTokenSecret,
  looksLikeTokenSecret,
  tokenIdOfHash,
} from '../../../../../functions/core/registry/token-secret.js';
import { poolPk, REGISTRY_BACKEND_PREFIX, registryKeys } from '../../../../../functions/core/store/keys.js';
import { decodeCursor, encodeCursor } from '../../../../../functions/core/store/registry/page-cursor.js';
import { RegistryError } from '../../../../../functions/core/store/registry/registry-error.js';

describe('registry keys', () => {
  it('puts a pool’s contents in its partition under REG# and escapes free-form parts', () => {
    expect(registryKeys.pool('a#b')).toEqual({ pk: 'REGISTRY#POOLS', sk: 'POOL#a%23b' });
    expect(registryKeys.backend('p', 'b1')).toEqual({ pk: poolPk('p'), sk: 'REG#BACKEND#b1' });
    expect(registryKeys.userMapping('p', 'u%1')).toEqual({ pk: 'POOL#p', sk: 'REG#USER#u%251' });
    expect(registryKeys.groupMapping('p', 'g')).toEqual({ pk: 'POOL#p', sk: 'REG#GROUP#g' });
    expect(registryKeys.proxyUser('p', 'n')).toEqual({ pk: 'POOL#p', sk: 'REG#PROXYUSER#n' });
    expect(registryKeys.apiToken('abc')).toEqual({ pk: 'REGISTRY#TOKENS', sk: 'TOKEN#abc' });
  });
});

describe('page cursors', () => {
  const list = { pk: poolPk('p'), prefix: REGISTRY_BACKEND_PREFIX };

  it('round-trip and only continue their own list', () => {
    const key = { pk: poolPk('p'), sk: `${REGISTRY_BACKEND_PREFIX}x` };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, list)).toEqual(key);
    for (const bad of [
      encodeCursor({ pk: poolPk('q'), sk: `${REGISTRY_BACKEND_PREFIX}x` }),
      encodeCursor({ pk: poolPk('p'), sk: 'REG#USER#x' }),
      'not a cursor',
      Buffer.from('{"pk":1}').toString('base64url'),
      Buffer.from('[1,2,3]').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad, list)).toThrow(RegistryError);
    }
  });
});

describe('API token secrets', () => {
  it('are ftpx_ plus 32 random bytes; the id is derived from the hash', () => {
    const secret = generateTokenSecret();
    expect(looksLikeTokenSecret(secret)).toBe(true);
    expect(generateTokenSecret()).not.toBe(secret);
    const hash = hashTokenSecret(secret);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenIdOfHash(hash)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(tokenIdOfHash(hash)).toBe(Buffer.from(hash, 'hex').subarray(0, 16).toString('base64url'));
    expect(looksLikeTokenSecret('ftpx_short')).toBe(false);
    expect(looksLikeTokenSecret(`xftp_${secret.slice(5)}`)).toBe(false);
  });
});

describe('principals', () => {
  it('parses bearer headers', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   ftpx_x-y_z')).toBe('ftpx_x-y_z');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('orders scopes and checks pools', () => {
    const reader = { kind: 'token', id: 't', scope: 'read', pools: ['a'] } as const;
    expect(hasScope(reader, 'read')).toBe(true);
    expect(hasScope(reader, 'write')).toBe(false);
    expect(hasScope({ ...reader, scope: 'admin' }, 'write')).toBe(true);
    expect(allowsPool(reader, 'a')).toBe(true);
    expect(allowsPool(reader, 'b')).toBe(false);
    expect(allowsPool({ ...reader, pools: '*' }, 'b')).toBe(true);
  });

  it('maps API Gateway JWT and IAM authorizers', () => {
    expect(
      principalFromGateway({ jwt: { claims: { sub: 'u1', 'ftpx:pools': '[a b]' }, scopes: ['ftpx/write'] } }),
    ).toEqual({ kind: 'gateway', id: 'jwt:u1', scope: 'write', pools: ['a', 'b'] });
    expect(
      principalFromGateway({ jwt: { claims: { scope: 'openid ftpx/read', 'ftpx:pools': 'a,c' } } }),
    ).toEqual({
      kind: 'gateway',
      id: 'jwt',
      scope: 'read',
      pools: ['a', 'c'],
    });
    expect(principalFromGateway({ jwt: { claims: { scp: ['ftpx/admin'] } } })).toMatchObject({
      scope: 'admin',
      pools: '*',
    });
    // No ftpx scope, or no pools for a non-admin: not authenticated.
    expect(principalFromGateway({ jwt: { claims: { scope: 'openid' } } })).toBeUndefined();
    expect(principalFromGateway({ jwt: { claims: { scope: 'ftpx/read' } } })).toBeUndefined();
    expect(principalFromGateway({ iam: { userArn: 'arn:aws:iam::1:user/ops' } })).toEqual({
      kind: 'gateway',
      id: 'iam:arn:aws:iam::1:user/ops',
      scope: 'admin',
      pools: '*',
    });
    expect(principalFromGateway(undefined)).toBeUndefined();
  });
});

describe('mapping patches', () => {
  it('removes by host and port, replaces in place, appends, and keeps at least one', () => {
    const list = ['ftp://u:p@a', 'sftp://b:2222', 'ftps://c'];
    expect(applyPatch(list, { remove: ['ftp://a:21'] })).toEqual(['sftp://b:2222', 'ftps://c']);
    expect(applyPatch(list, { add: ['sftp://v:w@b:2222', 'ftp://d'] })).toEqual([
      'ftp://u:p@a',
      'sftp://v:w@b:2222',
      'ftps://c',
      'ftp://d',
    ]);
    expect(applyPatch(list, {})).toEqual(list);
    expect(() => applyPatch(list, { remove: list })).toThrow(/at least one/);
  });
});

describe('contract details', () => {
  it('server-chosen backend ids sort by creation time', () => {
    const ids = [1, 2, 1000, 1_900_000_000_000, 1_900_000_000_001].map((ms) => generateBackendId(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^[0-9a-v]{19}$/);
  });

  it('refuses bad backend URLs without repeating credentials', () => {
    const result = backendUrlSchema.safeParse('ftp://user:hunter2/x@host:abc');
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain('hunter2');
    expect(backendUrlSchema.safeParse('ftp://user:pw@host:21').success).toBe(true);
    expect(backendUrlSchema.safeParse('ftp://host/').success).toBe(true);
    expect(backendUrlSchema.safeParse('ftp://host/dir').success).toBe(false);
    expect(backendUrlSchema.safeParse(' ftp://host').success).toBe(false);
    expect(backendUrlSchema.safeParse('sftp+srv://_sftp._tcp.example').success).toBe(true);
  });

  it('an admin token covers every pool', () => {
    expect(tokenCreateSchema.safeParse({ name: 'a', scope: 'admin', pools: '*' }).success).toBe(true);
    expect(tokenCreateSchema.safeParse({ name: 'a', scope: 'admin', pools: ['p'] }).success).toBe(false);
    expect(tokenCreateSchema.safeParse({ name: 'a', scope: 'read', pools: ['p', 'p'] }).success).toBe(false);
  });
});
