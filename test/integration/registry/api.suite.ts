import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../functions/core/registry/password-hash.js';
import {
  getProxyUser,
  listPoolBackends,
  lookupGroupBackends,
  lookupUserBackends,
} from '../../../functions/core/registry/read-side.js';
import { poolPk, REGISTRY_PREFIX, registryKeys } from '../../../functions/core/store/keys.js';
import { anyItem } from '../../../functions/core/store/registry/versioned-items.js';
import { createRegistryHandler } from '../../../functions/registry/handler.js';
import { registryRoutes } from '../../../functions/registry/routes/index.js';
import type { TestStore } from '../../support/test-stores.js';
import { type ApiReply, apiEvent, BOOTSTRAP, type RegistryHarness, startRegistry } from './api-client.js';

function issuePaths(reply: ApiReply): string[] {
  expect(reply.status).toBe(400);
  expect(reply.body.error.code).toBe('invalid_request');
  return (reply.body.error.issues as { path: string }[]).map((issue) => issue.path).sort();
}

/**
 * The registry API through its real handler against `store`: run by api.test.ts on dynalite and by
 * test/integration/dynamodb-local on DynamoDB Local (conditional writes, If-Match, pagination).
 */
export function defineRegistryApiSuite(store: TestStore): void {
  describe(`registry API against ${store.name}`, () => {
    /**
     * Secrets this suite sends; none may ever appear in a reply body (but the token's own creation)
     * or a log line.
     */
    const SECRETS = new Set<string>([BOOTSTRAP]);
    let h: RegistryHarness;
    const replies: string[] = [];

    /** Calls the API and remembers the raw reply for the leak check at the end. */
    const call = async (...args: Parameters<RegistryHarness['call']>) => {
      const reply = await h.call(...args);
      if (reply.raw !== undefined) replies.push(reply.raw);
      return reply;
    };

    const createPool = async (name: string, body: Record<string, unknown> = {}) => {
      const reply = await call('POST', '/v1/pools', { json: { name, ...body } });
      expect(reply.status).toBe(201);
      return reply;
    };

    const createToken = async (scope: 'read' | 'write' | 'admin', pools: string[] | '*', extra = {}) => {
      const reply = await h.call('POST', '/v1/tokens', {
        json: { name: `${scope} token`, scope, pools, ...extra },
      });
      expect(reply.status).toBe(201);
      SECRETS.add(reply.body.secret);
      return { id: reply.body.id as string, secret: reply.body.secret as string };
    };

    beforeAll(async () => {
      h = await startRegistry('ftpx-registry-api', store);
    });

    afterAll(async () => {
      await h.close();
    });

    describe('routing, content and errors', () => {
      it('serves a generated OpenAPI document without a token, listing every route', async () => {
        const reply = await call('GET', '/openapi.json', { token: null });
        expect(reply.status).toBe(200);
        const doc = reply.body;
        expect(doc.openapi).toMatch(/^3\.1\./);
        expect(doc.info.title).toBeTruthy();
        for (const route of registryRoutes) {
          const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
          expect(operation, `${route.method} ${route.path}`).toBeDefined();
          expect(operation.operationId).toBe(route.operationId);
          for (const name of route.path.match(/\{(\w+)\}/g) ?? []) {
            expect(
              operation.parameters.some(
                (p: { name: string; in: string }) => `{${p.name}}` === name && p.in === 'path',
              ),
            ).toBe(true);
          }
        }
        expect(doc.paths['/openapi.json'].get.security).toEqual([]);
        expect(Object.keys(doc.paths)).toEqual(
          expect.arrayContaining([
            '/v1/pools',
            '/v1/pools/{pool}',
            '/v1/pools/{pool}/backends',
            '/v1/pools/{pool}/backends/{id}',
            '/v1/pools/{pool}/users/{user}/backends',
            '/v1/pools/{pool}/groups/{group}/backends',
            '/v1/pools/{pool}/proxy-users',
            '/v1/pools/{pool}/proxy-users/{name}',
            '/v1/tokens',
            '/v1/tokens/{id}',
            '/openapi.json',
          ]),
        );
        const schemas = doc.components.schemas;
        for (const name of [
          'Pool',
          'Backend',
          'UserMapping',
          'GroupMapping',
          'ProxyUser',
          'Token',
          'CreatedToken',
          'Error',
        ]) {
          expect(schemas[name]?.type, name).toBe('object');
        }
        // Generated from zod: constraints and defaults are there.
        expect(schemas.BackendCreate.required).toEqual(['url']);
        expect(schemas.BackendCreate.properties.weight).toMatchObject({
          type: 'integer',
          minimum: 1,
          maximum: 1000,
        });
        expect(schemas.PoolCreate.properties.connectPolicy.enum).toContain('LeastConns');
        expect(schemas.Backend.properties).not.toHaveProperty('password');
        expect(schemas.ProxyUser.properties).not.toHaveProperty('passwordHash');
        expect(schemas.Token.properties).not.toHaveProperty('tokenHash');
        expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
        // Every $ref points at something in the document.
        const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
        expect(refs.length).toBeGreaterThan(20);
        for (const ref of new Set(refs)) {
          const [, section, name] = /#\/components\/(\w+)\/(\w+)/.exec(ref) ?? [];
          expect(doc.components[section as string]?.[name as string], ref).toBeDefined();
        }
      });

      it('answers 404 for unknown paths and 405 with Allow for unknown methods', async () => {
        const missing = await call('GET', '/v2/pools');
        expect(missing.status).toBe(404);
        expect(missing.body.error.code).toBe('not_found');
        const wrong = await call('DELETE', '/v1/pools');
        expect(wrong.status).toBe(405);
        expect(wrong.body.error.code).toBe('method_not_allowed');
        expect(wrong.headers.allow).toBe('GET, POST');
        expect((await call('POST', '/v1/tokens/abcdefghijklmnopqrstuv')).headers.allow).toBe(
          'GET, PUT, PATCH, DELETE',
        );
        expect((await call('POST', '/openapi.json')).status).toBe(405);
      });

      it('answers 401 without a valid bearer token', async () => {
        for (const token of [
          null,
          'nope',
          'ftpx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
          `${BOOTSTRAP}x`,
        ]) {
          const reply = await call('GET', '/v1/pools', { token });
          expect(reply.status, String(token)).toBe(401);
          expect(reply.body.error.code).toBe('unauthorized');
          expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
        }
        const basic = await call('GET', '/v1/pools', {
          token: null,
          headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
        });
        expect(basic.status).toBe(401);
      });

      it('answers 415 to a body that is not JSON, 400 to one that does not parse', async () => {
        const text = await call('POST', '/v1/pools', {
          rawBody: 'name=x',
          headers: { 'content-type': 'text/plain' },
        });
        expect(text.status).toBe(415);
        expect(text.body.error.code).toBe('unsupported_media_type');
        expect((await call('POST', '/v1/pools', { rawBody: '{"name":"x"}' })).status).toBe(415);
        const broken = await call('POST', '/v1/pools', {
          rawBody: '{"name":',
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
        expect(issuePaths(broken)).toEqual(['body']);
        const empty = await call('PATCH', '/v1/pools/x', {
          rawBody: '',
          headers: { 'content-type': 'application/json' },
        });
        expect(issuePaths(empty)).toEqual(['body']);
      });

      it('answers 400 naming every bad field by path', async () => {
        const reply = await call('POST', '/v1/pools', {
          json: { name: '', connectPolicy: 'Fastest', description: 5, colour: 'red' },
        });
        expect(issuePaths(reply)).toEqual([
          'body.colour',
          'body.connectPolicy',
          'body.description',
          'body.name',
        ]);
        expect(issuePaths(await call('POST', '/v1/pools', { json: ['x'] }))).toEqual(['body']);
        expect(issuePaths(await call('GET', '/v1/pools', { query: { limit: '0' } }))).toEqual([
          'query.limit',
        ]);
        expect(issuePaths(await call('GET', '/v1/pools', { query: { limit: '101' } }))).toEqual([
          'query.limit',
        ]);
        expect(issuePaths(await call('GET', '/v1/pools', { query: { page: '2' } }))).toEqual(['query.page']);
        expect(issuePaths(await call('GET', '/v1/pools/p/backends/bad%20id'))).toEqual(['path.id']);
        expect(issuePaths(await call('GET', '/v1/pools/a%01b'))).toEqual(['path.pool']);
        expect(issuePaths(await call('GET', '/v1/tokens/short'))).toEqual(['path.id']);
        expect(
          issuePaths(await call('PATCH', '/v1/pools/p', { json: {}, headers: { 'if-match': 'W/"x"' } })),
        ).toEqual(['headers.if-match']);
      });

      it('takes base64 bodies and paths under a named stage', async () => {
        const event = apiEvent('POST', '/prod/v1/pools', { token: BOOTSTRAP, stage: 'prod' });
        event.headers['content-type'] = 'application/json';
        event.body = Buffer.from(JSON.stringify({ name: 'staged' })).toString('base64');
        event.isBase64Encoded = true;
        const reply = await h.invoke(event);
        expect(reply.statusCode).toBe(201);
        expect(JSON.parse(reply.body as string).name).toBe('staged');
      });

      it('takes the caller from API Gateway’s JWT authorizer only when told to trust it', async () => {
        const jwtEvent = (method: string, path: string) => {
          const event = apiEvent(method, path, {
            token: null,
            headers: { authorization: 'Bearer eyJhbGciOi.x.y' },
          });
          (event.requestContext as unknown as { authorizer: unknown }).authorizer = {
            jwt: { claims: { sub: 'ops-1', 'ftpx:pools': '[staged]' }, scopes: ['ftpx/read'] },
          };
          return event;
        };
        const trusting = createRegistryHandler({
          table: h.table,
          trustGatewayAuthorizer: true,
          log: () => {},
        });
        expect((await trusting(jwtEvent('GET', '/v1/pools/staged'), {} as never)).statusCode).toBe(200);
        expect((await trusting(jwtEvent('GET', '/v1/pools/other'), {} as never)).statusCode).toBe(404);
        expect((await trusting(jwtEvent('DELETE', '/v1/pools/staged'), {} as never)).statusCode).toBe(403);
        const untrusting = createRegistryHandler({ table: h.table, log: () => {} });
        expect((await untrusting(jwtEvent('GET', '/v1/pools/staged'), {} as never)).statusCode).toBe(401);
      });

      it('answers 500 without internals when the store fails, and logs only what failed', async () => {
        const logs: Record<string, unknown>[] = [];
        const broken = createRegistryHandler({
          table: { client: h.table.client, name: 'no-such-table' },
          bootstrapToken: BOOTSTRAP,
          log: (entry) => logs.push(entry),
        });
        const reply = await broken(apiEvent('GET', '/v1/pools', { token: BOOTSTRAP }), {} as never);
        expect(reply.statusCode).toBe(500);
        expect(JSON.parse(reply.body as string)).toEqual({
          error: { code: 'internal', message: 'internal error' },
        });
        const error = logs.find((entry) => entry.level === 'error');
        expect(error).toMatchObject({ error: 'StoreError', cause: 'ResourceNotFoundException' });
        expect(JSON.stringify(logs)).not.toContain(BOOTSTRAP);
      });
    });

    describe('pools', () => {
      it('creates, reads, lists, patches and deletes; POST of an existing name is 409', async () => {
        const created = await createPool('alpha', { connectPolicy: 'LeastConns', description: 'first' });
        expect(created.body).toMatchObject({
          name: 'alpha',
          connectPolicy: 'LeastConns',
          description: 'first',
          version: 1,
        });
        expect(created.headers.etag).toBe('"1"');
        expect(created.headers.location).toBe('/v1/pools/alpha');
        expect(created.body.createdAt).toBe(new Date(h.clock.now).toISOString());

        const again = await call('POST', '/v1/pools', { json: { name: 'alpha' } });
        expect(again.status).toBe(409);
        expect(again.body.error.code).toBe('already_exists');

        expect((await call('GET', '/v1/pools/alpha')).body).toEqual(created.body);
        expect((await call('GET', '/v1/pools/nowhere')).status).toBe(404);

        h.clock.now += 1000;
        const patched = await call('PATCH', '/v1/pools/alpha', {
          json: { description: null, connectPolicy: 'Shuffle' },
        });
        expect(patched.status).toBe(200);
        expect(patched.body).toMatchObject({ connectPolicy: 'Shuffle', version: 2 });
        expect(patched.body).not.toHaveProperty('description');
        expect(patched.body.updatedAt).toBe(new Date(h.clock.now).toISOString());
        expect(patched.body.createdAt).toBe(created.body.createdAt);
        expect((await call('PATCH', '/v1/pools/nowhere', { json: {} })).status).toBe(404);

        const names = (await call('GET', '/v1/pools')).body.items.map((pool: { name: string }) => pool.name);
        expect(names).toContain('alpha');

        const removed = await call('DELETE', '/v1/pools/alpha');
        expect(removed.status).toBe(204);
        expect(removed.raw).toBeUndefined();
        expect((await call('GET', '/v1/pools/alpha')).status).toBe(404);
        expect((await call('DELETE', '/v1/pools/alpha')).status).toBe(404);
      });

      it('PUT creates, then is idempotent: the same body again changes nothing (same version)', async () => {
        const first = await call('PUT', '/v1/pools/idem', { json: { connectPolicy: 'RoundRobin' } });
        expect(first.status).toBe(201);
        expect(first.headers.location).toBe('/v1/pools/idem');
        h.clock.now += 1000;
        const second = await call('PUT', '/v1/pools/idem', { json: { connectPolicy: 'RoundRobin' } });
        expect(second.status).toBe(200);
        expect(second.body).toEqual(first.body);
        const third = await call('PUT', '/v1/pools/idem', { json: { connectPolicy: 'Random' } });
        expect(third.status).toBe(200);
        expect(third.body.version).toBe(2);
        // PUT replaces: what the body leaves out is gone.
        const fourth = await call('PUT', '/v1/pools/idem', { json: {} });
        expect(fourth.body).not.toHaveProperty('connectPolicy');
        expect(fourth.body.version).toBe(3);
      });

      it('honours If-Match: stale versions are 409, the current one goes through', async () => {
        await createPool('guarded');
        const stale = await call('PUT', '/v1/pools/guarded', {
          json: { description: 'x' },
          headers: { 'if-match': '"7"' },
        });
        expect(stale.status).toBe(409);
        expect(stale.body.error.code).toBe('version_mismatch');
        const good = await call('PUT', '/v1/pools/guarded', {
          json: { description: 'x' },
          headers: { 'if-match': '"1"' },
        });
        expect(good.status).toBe(200);
        expect(good.body.version).toBe(2);
        const racing = await Promise.all(
          ['a', 'b', 'c', 'd'].map((description) =>
            call('PATCH', '/v1/pools/guarded', { json: { description }, headers: { 'if-match': '2' } }),
          ),
        );
        expect(racing.map((reply) => reply.status).sort()).toEqual([200, 409, 409, 409]);
        expect(
          (await call('PUT', '/v1/pools/unknown', { json: {}, headers: { 'if-match': '1' } })).status,
        ).toBe(404);
        expect((await call('DELETE', '/v1/pools/guarded', { headers: { 'if-match': '2' } })).status).toBe(
          409,
        );
        expect((await call('DELETE', '/v1/pools/guarded', { headers: { 'if-match': '3' } })).status).toBe(
          204,
        );
      });

      it('keeps every concurrent change without If-Match (optimistic retries, no lost update)', async () => {
        await createPool('busy');
        const replies = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            call('PATCH', '/v1/pools/busy', { json: { description: `d${i}` } }),
          ),
        );
        expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
        expect(replies.map((reply) => reply.body.version).sort()).toEqual([2, 3, 4, 5, 6]);
        const creations = await Promise.all(
          Array.from({ length: 5 }, () => call('POST', '/v1/pools', { json: { name: 'contested' } })),
        );
        expect(creations.map((reply) => reply.status).sort()).toEqual([201, 409, 409, 409, 409]);
      });

      it('refuses to delete a pool with contents, and contents in a missing pool', async () => {
        await createPool('full');
        const backend = await call('POST', '/v1/pools/full/backends', { json: { url: 'ftp://10.0.0.1' } });
        expect(backend.status).toBe(201);
        const refused = await call('DELETE', '/v1/pools/full');
        expect(refused.status).toBe(409);
        expect(refused.body.error.code).toBe('pool_not_empty');
        // The refused deletion left the pool usable.
        expect(
          (await call('POST', '/v1/pools/full/backends', { json: { url: 'ftp://10.0.0.2' } })).status,
        ).toBe(201);
        for (const path of ['/v1/pools/ghost/backends', '/v1/pools/ghost/proxy-users']) {
          const reply = await call('POST', path, {
            json: { url: 'ftp://10.0.0.1', name: 'u', password: 'p', primaryGroup: 'g' },
          });
          expect([400, 404]).toContain(reply.status);
        }
        expect(
          (await call('POST', '/v1/pools/ghost/backends', { json: { url: 'ftp://10.0.0.1' } })).status,
        ).toBe(404);
        expect(
          (await call('PUT', '/v1/pools/ghost/backends/b1', { json: { url: 'ftp://10.0.0.1' } })).status,
        ).toBe(404);
        expect(
          (await call('PUT', '/v1/pools/ghost/users/u/backends', { json: { backends: ['ftp://h'] } })).status,
        ).toBe(404);
        expect((await call('GET', '/v1/pools/ghost/backends')).status).toBe(404);
        expect(await anyItem(h.table, poolPk('ghost'), REGISTRY_PREFIX)).toBe(false);
      });

      it('refuses contents in a pool whose deletion was interrupted, until the DELETE is repeated', async () => {
        await createPool('interrupted');
        // A deleter that crashed after step 1 (the mark) and before step 3.
        await h.table.client.send(
          new UpdateItemCommand({
            TableName: h.table.name,
            Key: marshall(registryKeys.pool('interrupted')),
            UpdateExpression: 'SET deleting = :mark',
            ExpressionAttributeValues: { ':mark': { S: 'crashed-deleter' } },
          }),
        );
        const refused = await call('POST', '/v1/pools/interrupted/backends', {
          json: { url: 'ftp://10.3.0.1' },
        });
        expect(refused.status).toBe(409);
        expect(refused.body.error.code).toBe('pool_being_deleted');
        expect(await anyItem(h.table, poolPk('interrupted'), REGISTRY_PREFIX)).toBe(false);
        // Reads and settings are unaffected; repeating the DELETE finishes it.
        expect((await call('GET', '/v1/pools/interrupted')).body.version).toBe(1);
        expect((await call('DELETE', '/v1/pools/interrupted')).status).toBe(204);
        expect((await call('GET', '/v1/pools/interrupted')).status).toBe(404);
      });

      it('never leaves contents behind a deleted pool when creation and deletion race', async () => {
        const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        for (let round = 0; round < 16; round++) {
          const pool = `race-${round}`;
          await createPool(pool);
          // Start one side a little later each round, so the requests interleave differently.
          const [deletion, creation] = await Promise.all([
            pause(round % 4).then(() => call('DELETE', `/v1/pools/${pool}`)),
            pause(3 - (round % 4)).then(() =>
              call('POST', `/v1/pools/${pool}/backends`, { json: { url: 'ftp://10.1.1.1' } }),
            ),
          ]);
          const left = await anyItem(h.table, poolPk(pool), REGISTRY_PREFIX);
          if (deletion.status === 204) {
            expect(left, `round ${round}`).toBe(false);
            expect([404, 409]).toContain(creation.status);
          } else {
            expect(deletion.body.error.code).toMatch(/^(pool_not_empty|conflict)$/);
            expect((await call('GET', `/v1/pools/${pool}`)).status).toBe(200);
          }
          if (creation.status === 201) expect(deletion.status).not.toBe(204);
        }
      });
    });

    describe('backends', () => {
      beforeAll(async () => {
        // proxyAuth: the registry takes backend URLs with a password only in such pools.
        await createPool('web', { proxyAuth: true });
      });

      it('stores credentials but never returns them', async () => {
        const secretPassword = 'S3cr3t-pa55';
        SECRETS.add(secretPassword);
        const created = await call('POST', '/v1/pools/web/backends', {
          json: {
            url: `ftps://deploy:${secretPassword}@files.example:990`,
            weight: 5,
            labels: { zone: 'a' },
          },
        });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({
          pool: 'web',
          url: 'ftps://deploy:***@files.example:990',
          backend: 'ftps://files.example:990',
          weight: 5,
          enabled: true,
          labels: { zone: 'a' },
          version: 1,
        });
        expect(created.raw).not.toContain(secretPassword);
        const id = created.body.id as string;
        expect(id).toMatch(/^[0-9a-v]{19}$/);
        expect(created.headers.location).toBe(`/v1/pools/web/backends/${id}`);
        expect((await call('GET', `/v1/pools/web/backends/${id}`)).raw).not.toContain(secretPassword);
        expect((await call('GET', '/v1/pools/web/backends')).raw).not.toContain(secretPassword);
        // Internally, edge workers get the URL as registered.
        expect((await listPoolBackends(h.table, 'web')).find((b) => b.id === id)?.url).toBe(
          `ftps://deploy:${secretPassword}@files.example:990`,
        );
        // A bad URL with credentials in it is refused without repeating them.
        const bad = await call('PATCH', `/v1/pools/web/backends/${id}`, {
          json: { url: `ftp://deploy:${secretPassword}/x@files.example:abc` },
        });
        expect(issuePaths(bad)).toEqual(['body.url']);
        expect(bad.raw).not.toContain(secretPassword);
      });

      it('validates URLs and fields', async () => {
        const reply = await call('POST', '/v1/pools/web/backends', {
          json: { url: 'http://x', weight: 0, enabled: 'yes', labels: { 'bad label': 'v' } },
        });
        expect(issuePaths(reply)).toEqual([
          'body.enabled',
          'body.labels.bad label',
          'body.url',
          'body.weight',
        ]);
        expect(
          issuePaths(await call('POST', '/v1/pools/web/backends', { json: { url: 'ftp://h:21/path' } })),
        ).toEqual(['body.url']);
        expect(issuePaths(await call('POST', '/v1/pools/web/backends', { json: {} }))).toEqual(['body.url']);
      });

      it('PUT under a chosen id, PATCH, DELETE; the read side lists enabled ones only', async () => {
        const body = { url: 'sftp://sftp.example:2222', labels: { tier: 'gold' } };
        const first = await call('PUT', '/v1/pools/web/backends/sftp-1', { json: body });
        expect(first.status).toBe(201);
        h.clock.now += 1000;
        const same = await call('PUT', '/v1/pools/web/backends/sftp-1', { json: body });
        expect(same.status).toBe(200);
        expect(same.body).toEqual(first.body);

        const disabled = await call('PATCH', '/v1/pools/web/backends/sftp-1', {
          json: { enabled: false, labels: null },
        });
        expect(disabled.body).toMatchObject({ enabled: false, version: 2, url: 'sftp://sftp.example:2222' });
        expect(disabled.body).not.toHaveProperty('labels');
        expect((await listPoolBackends(h.table, 'web')).map((b) => b.id)).not.toContain('sftp-1');
        const enabled = await call('PATCH', '/v1/pools/web/backends/sftp-1', {
          json: { enabled: true },
          headers: { 'if-match': '"2"' },
        });
        expect(enabled.body.version).toBe(3);
        const stale = await call('PATCH', '/v1/pools/web/backends/sftp-1', {
          json: { weight: 3 },
          headers: { 'if-match': '"2"' },
        });
        expect(stale.status).toBe(409);
        expect(stale.body.error.code).toBe('version_mismatch');
        expect((await listPoolBackends(h.table, 'web')).find((b) => b.id === 'sftp-1')).toEqual({
          id: 'sftp-1',
          url: 'sftp://sftp.example:2222',
          backend: 'sftp://sftp.example:2222',
        });

        expect(
          (await call('PATCH', '/v1/pools/web/backends/nothing', { json: { enabled: true } })).status,
        ).toBe(404);
        expect(
          (await call('DELETE', '/v1/pools/web/backends/sftp-1', { headers: { 'if-match': '1' } })).status,
        ).toBe(409);
        expect((await call('DELETE', '/v1/pools/web/backends/sftp-1')).status).toBe(204);
        expect((await call('GET', '/v1/pools/web/backends/sftp-1')).status).toBe(404);
        expect((await call('DELETE', '/v1/pools/web/backends/sftp-1')).status).toBe(404);
      });

      it('pages through more backends than a page holds, with opaque cursors', async () => {
        await createPool('many');
        const created: string[] = [];
        for (let i = 0; i < 23; i++) {
          h.clock.now += 1;
          const reply = await call('POST', '/v1/pools/many/backends', {
            json: { url: `ftp://10.2.0.${i + 1}` },
          });
          created.push(reply.body.id);
        }
        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | undefined;
        do {
          const reply = await call('GET', '/v1/pools/many/backends', {
            query: { limit: '10', ...(cursor ? { cursor } : {}) },
          });
          expect(reply.status).toBe(200);
          sizes.push(reply.body.items.length);
          seen.push(...reply.body.items.map((item: { id: string }) => item.id));
          cursor = reply.body.nextCursor;
        } while (cursor);
        expect(sizes.slice(0, 3)).toEqual([10, 10, 3]);
        // Server-chosen ids sort by creation time: the list is in the order backends were added.
        expect(seen).toEqual(created);
        expect((await call('GET', '/v1/pools/many/backends')).body.items).toHaveLength(23);
        expect((await listPoolBackends(h.table, 'many')).map((b) => b.id)).toEqual(created);

        const page = await call('GET', '/v1/pools/many/backends', { query: { limit: '5' } });
        // A cursor only continues its own list.
        expect(
          issuePaths(
            await call('GET', '/v1/pools/web/backends', { query: { cursor: page.body.nextCursor } }),
          ),
        ).toEqual(['query.cursor']);
        expect(
          issuePaths(await call('GET', '/v1/pools/many/users', { query: { cursor: page.body.nextCursor } })),
        ).toEqual(['query.cursor']);
        expect(
          issuePaths(await call('GET', '/v1/pools/many/backends', { query: { cursor: 'garbage!' } })),
        ).toEqual(['query.cursor']);
      });
    });

    describe('user and group mappings', () => {
      beforeAll(async () => {
        await createPool('mapped', { proxyAuth: true });
      });

      it('maps a user to backends; the read side sees them with credentials', async () => {
        const password = 'map-pass-1';
        SECRETS.add(password);
        const body = { backends: [`ftp://alice:${password}@h1.example`, 'sftp://h2.example'] };
        const created = await call('PUT', '/v1/pools/mapped/users/alice/backends', { json: body });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({
          pool: 'mapped',
          user: 'alice',
          backends: ['ftp://alice:***@h1.example', 'sftp://h2.example'],
          version: 1,
        });
        expect(created.raw).not.toContain(password);
        expect(
          (await call('PUT', '/v1/pools/mapped/users/alice/backends', { json: body })).body.version,
        ).toBe(1);
        expect(await lookupUserBackends(h.table, 'mapped', 'alice')).toEqual(body.backends);
        expect(await lookupUserBackends(h.table, 'mapped', 'nobody')).toBeUndefined();

        const conflict = await call('POST', '/v1/pools/mapped/users/alice/backends', { json: body });
        expect(conflict.status).toBe(409);
        expect(conflict.body.error.code).toBe('already_exists');
        expect(
          (await call('POST', '/v1/pools/mapped/users/bob/backends', { json: { backends: ['ftp://h3'] } }))
            .status,
        ).toBe(201);

        // Remove by host and port alone; add replaces the entry for the same host and port in place.
        const patched = await call('PATCH', '/v1/pools/mapped/users/alice/backends', {
          json: { remove: ['ftp://h1.example:21'], add: ['sftp://h2.example:22', 'ftps://h4.example'] },
        });
        expect(patched.body.backends).toEqual(['sftp://h2.example:22', 'ftps://h4.example']);
        expect(patched.body.version).toBe(2);
        const emptied = await call('PATCH', '/v1/pools/mapped/users/alice/backends', {
          json: { remove: ['sftp://h2.example', 'ftps://h4.example'] },
        });
        expect(issuePaths(emptied)).toEqual(['body.remove']);

        const duplicate = await call('PUT', '/v1/pools/mapped/users/carol/backends', {
          json: { backends: ['ftp://h1', 'ftp://u:p@h1:21', 'nonsense'] },
        });
        expect(issuePaths(duplicate)).toEqual(['body.backends.1', 'body.backends.2']);
        expect(
          issuePaths(await call('PUT', '/v1/pools/mapped/users/carol/backends', { json: { backends: [] } })),
        ).toEqual(['body.backends']);

        const list = await call('GET', '/v1/pools/mapped/users');
        expect(list.body.items.map((item: { user: string }) => item.user)).toEqual(['alice', 'bob']);
        expect((await call('GET', '/v1/pools/mapped/users/alice/backends')).body.backends).toEqual(
          patched.body.backends,
        );
        expect((await call('DELETE', '/v1/pools/mapped/users/bob/backends')).status).toBe(204);
        expect((await call('GET', '/v1/pools/mapped/users/bob/backends')).status).toBe(404);
      });

      it('maps groups the same way, apart from users (names with / and # included)', async () => {
        const created = await call('PUT', '/v1/pools/mapped/groups/ops%2Fteam%231/backends', {
          json: { backends: ['ftp://g1.example'] },
        });
        expect(created.status).toBe(201);
        expect(created.body.group).toBe('ops/team#1');
        expect(await lookupGroupBackends(h.table, 'mapped', 'ops/team#1')).toEqual(['ftp://g1.example']);
        expect(await lookupUserBackends(h.table, 'mapped', 'ops/team#1')).toBeUndefined();
        expect((await call('GET', '/v1/pools/mapped/groups')).body.items).toHaveLength(1);
        expect(
          (await call('GET', '/v1/pools/mapped/users')).body.items.map((i: { user: string }) => i.user),
        ).toEqual(['alice']);
        expect(
          (
            await call('PATCH', '/v1/pools/mapped/groups/ops%2Fteam%231/backends', {
              json: { add: ['ftp://g2'] },
            })
          ).body.backends,
        ).toEqual(['ftp://g1.example', 'ftp://g2']);
        expect((await call('DELETE', '/v1/pools/mapped/groups/ops%2Fteam%231/backends')).status).toBe(204);
      });
    });

    describe('proxy users', () => {
      beforeAll(async () => {
        await createPool('auth');
      });

      it('hashes passwords and never returns them', async () => {
        const password = 'correct horse battery staple';
        SECRETS.add(password);
        const created = await call('POST', '/v1/pools/auth/proxy-users', {
          json: { name: 'dave', password, primaryGroup: 'staff', groups: ['ftp', 'ops'] },
        });
        expect(created.status).toBe(201);
        expect(created.body).toEqual({
          pool: 'auth',
          name: 'dave',
          primaryGroup: 'staff',
          groups: ['ftp', 'ops'],
          enabled: true,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          version: 1,
        });
        expect(created.raw).not.toContain(password);
        expect(created.raw).not.toContain('scrypt');
        const stored = await getProxyUser(h.table, 'auth', 'dave');
        expect(stored?.passwordHash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
        expect(await verifyPassword(password, stored?.passwordHash ?? '')).toBe(true);
        expect(await verifyPassword('wrong', stored?.passwordHash ?? '')).toBe(false);

        expect(
          (
            await call('POST', '/v1/pools/auth/proxy-users', {
              json: { name: 'dave', password: 'x', primaryGroup: 'g' },
            })
          ).status,
        ).toBe(409);
        expect(
          issuePaths(
            await call('POST', '/v1/pools/auth/proxy-users', {
              json: { name: 'erin', password: '', groups: ['a', 'a'] },
            }),
          ),
        ).toEqual(['body.groups.1', 'body.password', 'body.primaryGroup']);
      });

      it('PUT with the same password keeps the hash (idempotent); PATCH changes it', async () => {
        const body = { password: 'pw-one', primaryGroup: 'staff' };
        SECRETS.add('pw-one');
        SECRETS.add('pw-two');
        const first = await call('PUT', '/v1/pools/auth/proxy-users/frank', { json: body });
        expect(first.status).toBe(201);
        const hash = (await getProxyUser(h.table, 'auth', 'frank'))?.passwordHash;
        const second = await call('PUT', '/v1/pools/auth/proxy-users/frank', { json: body });
        expect(second.status).toBe(200);
        expect(second.body.version).toBe(1);
        expect((await getProxyUser(h.table, 'auth', 'frank'))?.passwordHash).toBe(hash);

        const patched = await call('PATCH', '/v1/pools/auth/proxy-users/frank', {
          json: { password: 'pw-two', enabled: false },
        });
        expect(patched.body).toMatchObject({ enabled: false, version: 2 });
        const stored = await getProxyUser(h.table, 'auth', 'frank');
        expect(stored?.enabled).toBe(false);
        expect(await verifyPassword('pw-two', stored?.passwordHash ?? '')).toBe(true);
        expect(await verifyPassword('pw-one', stored?.passwordHash ?? '')).toBe(false);

        const list = await call('GET', '/v1/pools/auth/proxy-users');
        expect(list.body.items.map((u: { name: string }) => u.name)).toEqual(['dave', 'frank']);
        expect(list.raw).not.toContain('scrypt');
        expect((await call('GET', '/v1/pools/auth/proxy-users/frank')).body.name).toBe('frank');
        expect((await call('DELETE', '/v1/pools/auth/proxy-users/frank')).status).toBe(204);
        expect(await getProxyUser(h.table, 'auth', 'frank')).toBeUndefined();
      });
    });

    describe('API tokens', () => {
      it('returns the secret once; the token then works until deleted', async () => {
        const created = await call('POST', '/v1/tokens', {
          json: { name: 'ci', scope: 'write', pools: ['web'] },
        });
        expect(created.status).toBe(201);
        const { id, secret } = created.body;
        SECRETS.add(secret);
        expect(secret).toMatch(/^ftpx_[\w-]{43}$/);
        expect(created.headers.location).toBe(`/v1/tokens/${id}`);
        replies.pop(); // the one reply allowed to carry it

        const read = await call('GET', `/v1/tokens/${id}`);
        expect(read.body).toEqual({
          id,
          name: 'ci',
          scope: 'write',
          pools: ['web'],
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          version: 1,
        });
        const listed = await call('GET', '/v1/tokens');
        expect(listed.body.items.map((t: { id: string }) => t.id)).toContain(id);
        expect(listed.raw).not.toContain(secret);
        expect(listed.raw).not.toContain('tokenHash');

        expect((await call('GET', '/v1/pools/web', { token: secret })).status).toBe(200);
        expect((await call('GET', `/v1/tokens/${id}`)).body.lastUsedAt).toBe(
          new Date(h.clock.now).toISOString(),
        );

        const renamed = await call('PUT', `/v1/tokens/${id}`, {
          json: { name: 'ci-2', scope: 'read', pools: ['web'] },
        });
        expect(renamed.body).toMatchObject({ name: 'ci-2', scope: 'read', version: 2 });
        expect(
          (await call('POST', '/v1/pools/web/backends', { token: secret, json: { url: 'ftp://h' } })).status,
        ).toBe(403);
        expect((await call('PATCH', `/v1/tokens/${id}`, { json: { scope: 'admin' } })).status).toBe(400);
        expect(
          (
            await call('PUT', '/v1/tokens/AAAAAAAAAAAAAAAAAAAAAA', {
              json: { name: 'x', scope: 'read', pools: '*' },
            })
          ).status,
        ).toBe(404);

        expect((await call('DELETE', `/v1/tokens/${id}`)).status).toBe(204);
        expect((await call('GET', '/v1/pools/web', { token: secret })).status).toBe(401);
        expect((await call('GET', `/v1/tokens/${id}`)).status).toBe(404);
      });

      it('validates scope, pools and expiry', async () => {
        expect(
          issuePaths(await call('POST', '/v1/tokens', { json: { name: 'x', scope: 'admin', pools: ['a'] } })),
        ).toEqual(['body.pools']);
        expect(
          issuePaths(await call('POST', '/v1/tokens', { json: { name: '', scope: 'root', pools: [] } })),
        ).toEqual(['body.name', 'body.pools', 'body.scope']);
        const past = new Date(h.clock.now - 1000).toISOString();
        expect(
          issuePaths(
            await call('POST', '/v1/tokens', {
              json: { name: 'x', scope: 'read', pools: '*', expiresAt: past },
            }),
          ),
        ).toEqual(['body.expiresAt']);
      });

      it('stops accepting a token once it expired', async () => {
        // Expiry is kept in whole seconds (the table's TTL attribute), rounded up.
        const expiresAt = new Date(Math.ceil((h.clock.now + 3600_000) / 1000) * 1000).toISOString();
        const token = await createToken('read', '*', { expiresAt });
        const read = await call('GET', `/v1/tokens/${token.id}`);
        expect(read.body.expiresAt).toBe(expiresAt);
        expect((await call('GET', '/v1/pools', { token: token.secret })).status).toBe(200);
        h.clock.now = Date.parse(expiresAt) - 1;
        expect((await call('GET', '/v1/pools', { token: token.secret })).status).toBe(200);
        h.clock.now = Date.parse(expiresAt);
        expect((await call('GET', '/v1/pools', { token: token.secret })).status).toBe(401);
        expect((await call('GET', `/v1/tokens/${token.id}`)).status).toBe(404);
        expect((await call('GET', '/v1/tokens')).body.items.map((t: { id: string }) => t.id)).not.toContain(
          token.id,
        );
      });

      it('pages through tokens', async () => {
        for (let i = 0; i < 4; i++) await createToken('read', ['x']);
        const first = await call('GET', '/v1/tokens', { query: { limit: '2' } });
        expect(first.body.items).toHaveLength(2);
        const second = await call('GET', '/v1/tokens', {
          query: { limit: '100', cursor: first.body.nextCursor },
        });
        const ids = [...first.body.items, ...second.body.items].map((t: { id: string }) => t.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toEqual([...ids].sort());
      });
    });

    describe('scopes and tenants', () => {
      let readA: string;
      let writeA: string;
      let writeAC: string;

      beforeAll(async () => {
        await createPool('tenant-a');
        await createPool('tenant-b');
        await call('PUT', '/v1/pools/tenant-b/backends/b1', { json: { url: 'ftp://b.example' } });
        await call('PUT', '/v1/pools/tenant-a/backends/a1', { json: { url: 'ftp://a.example' } });
        readA = (await createToken('read', ['tenant-a'])).secret;
        writeA = (await createToken('write', ['tenant-a'])).secret;
        writeAC = (await createToken('write', ['tenant-a', 'tenant-c'])).secret;
      });

      it('a read token reads its pools and changes nothing', async () => {
        expect((await call('GET', '/v1/pools/tenant-a', { token: readA })).status).toBe(200);
        expect((await call('GET', '/v1/pools/tenant-a/backends/a1', { token: readA })).status).toBe(200);
        for (const [method, path, json] of [
          ['POST', '/v1/pools/tenant-a/backends', { url: 'ftp://x' }],
          ['PATCH', '/v1/pools/tenant-a', {}],
          ['DELETE', '/v1/pools/tenant-a/backends/a1', undefined],
          ['POST', '/v1/pools', { name: 'new' }],
          ['GET', '/v1/tokens', undefined],
          ['POST', '/v1/tokens', { name: 'x', scope: 'admin', pools: '*' }],
        ] as const) {
          const reply = await call(method, path, { token: readA, ...(json ? { json } : {}) });
          expect(reply.status, `${method} ${path}`).toBe(403);
          expect(reply.body.error.code).toBe('forbidden');
        }
      });

      it("a pool token never sees another tenant's pool: 404 on reads, 403 on changes", async () => {
        const list = await call('GET', '/v1/pools', { token: readA });
        expect(list.body.items.map((p: { name: string }) => p.name)).toEqual(['tenant-a']);
        for (const path of [
          '/v1/pools/tenant-b',
          '/v1/pools/tenant-b/backends',
          '/v1/pools/tenant-b/backends/b1',
          '/v1/pools/tenant-b/users/u/backends',
          '/v1/pools/tenant-b/proxy-users',
        ]) {
          const existing = await call('GET', path, { token: readA });
          expect(existing.status, path).toBe(404);
          // Indistinguishable from a pool that does not exist at all.
          const missing = await call('GET', path.replace('tenant-b', 'tenant-z'), { token: readA });
          expect(missing.body.error.message.replace('tenant-z', 'tenant-b')).toBe(
            existing.body.error.message,
          );
        }
        for (const token of [readA, writeA]) {
          const change = await call('POST', '/v1/pools/tenant-b/backends', {
            token,
            json: { url: 'ftp://evil' },
          });
          expect(change.status).toBe(403);
          const put = await call('PUT', '/v1/pools/tenant-b', { token, json: {} });
          expect(put.status).toBe(403);
        }
        expect((await call('GET', '/v1/pools/tenant-b/backends')).body.items).toHaveLength(1);
      });

      it('a write token changes contents of its pools but creates and deletes no pool', async () => {
        const created = await call('POST', '/v1/pools/tenant-a/backends', {
          token: writeA,
          json: { url: 'ftp://a2.example' },
        });
        expect(created.status).toBe(201);
        expect(
          (await call('PATCH', '/v1/pools/tenant-a', { token: writeA, json: { description: 'mine' } }))
            .status,
        ).toBe(200);
        expect(
          (await call('PUT', '/v1/pools/tenant-a', { token: writeA, json: { description: 'mine' } })).status,
        ).toBe(200);
        expect(
          (await call('DELETE', `/v1/pools/tenant-a/backends/${created.body.id}`, { token: writeA })).status,
        ).toBe(204);
        expect((await call('DELETE', '/v1/pools/tenant-a', { token: writeA })).status).toBe(403);
        expect((await call('POST', '/v1/pools', { token: writeA, json: { name: 'tenant-a2' } })).status).toBe(
          403,
        );
        const creating = await call('PUT', '/v1/pools/tenant-c', { token: writeAC, json: {} });
        expect(creating.status).toBe(403);
        expect(creating.body.error.message).toMatch(/admin/);
        expect((await call('GET', '/v1/pools/tenant-c')).status).toBe(404);
        const pools = await call('GET', '/v1/pools', { token: writeAC, query: { limit: '1' } });
        expect(pools.body.items.map((p: { name: string }) => p.name)).toEqual(['tenant-a']);
        expect(pools.body.nextCursor).toBeUndefined();
      });

      it('an admin token can do everything', async () => {
        const admin = await createToken('admin', '*');
        expect(
          (await call('POST', '/v1/pools', { token: admin.secret, json: { name: 'tenant-d' } })).status,
        ).toBe(201);
        expect((await call('DELETE', '/v1/pools/tenant-d', { token: admin.secret })).status).toBe(204);
        expect((await call('GET', '/v1/tokens', { token: admin.secret })).status).toBe(200);
      });

      it('a restricted token pages through its own pools only', async () => {
        for (const name of ['t-1', 't-2', 't-3']) await createPool(name);
        const token = (await createToken('read', ['t-3', 't-1', 't-2', 'tenant-b', 'absent'])).secret;
        const names: string[] = [];
        let cursor: string | undefined;
        do {
          const reply = await call('GET', '/v1/pools', {
            token,
            query: { limit: '2', ...(cursor ? { cursor } : {}) },
          });
          names.push(...reply.body.items.map((p: { name: string }) => p.name));
          cursor = reply.body.nextCursor;
        } while (cursor);
        expect(names).toEqual(['t-1', 't-2', 't-3', 'tenant-b']);
      });
    });

    it('never let a secret out in a reply or a log line', () => {
      expect(SECRETS.size).toBeGreaterThan(5);
      const logs = JSON.stringify(h.logs);
      expect(h.logs.length).toBeGreaterThan(50);
      for (const secret of SECRETS) {
        expect(logs.includes(secret), 'logs').toBe(false);
        for (const raw of replies) expect(raw.includes(secret), raw).toBe(false);
      }
    });
  });
}
