import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, ApiUnreachableError } from '../../../../edge-worker/cli/admin/api-client.js';
import { type FakeApi, startFakeApi } from './fake-api.js';

describe('the operator CLI API client', () => {
  let api: FakeApi | undefined;
  let client: ApiClient | undefined;
  afterEach(async () => {
    await client?.close();
    await api?.close();
    client = undefined;
    api = undefined;
  });

  it('sends the bearer token and JSON, percent-encodes segments and keeps a base path', async () => {
    api = await startFakeApi(() => ({ status: 201, body: { ok: true } }));
    client = new ApiClient({ baseUrl: `${api.url}/prod/`, token: 'tok-1' });
    const answer = await client.call('POST', ['v1', 'pools', 'a/b c', 'backends'], {
      body: { url: 'ftp://h' },
    });
    expect(answer).toEqual({ ok: true });
    const [sent] = api.requests;
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/prod/v1/pools/a%2Fb%20c/backends');
    expect(sent?.headers.authorization).toBe('Bearer tok-1');
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent?.body ?? '')).toEqual({ url: 'ftp://h' });
  });

  it('sends no Authorization header without a token, and answers undefined to 204', async () => {
    api = await startFakeApi(() => ({ status: 204 }));
    client = new ApiClient({ baseUrl: api.url });
    expect(await client.call('DELETE', ['v1', 'tokens', 'x'])).toBeUndefined();
    expect(api.requests[0]?.headers.authorization).toBeUndefined();
    expect(client.hasToken).toBe(false);
  });

  it('follows nextCursor until the last page', async () => {
    const pages: Record<string, { items: number[]; nextCursor?: string }> = {
      '': { items: [1, 2], nextCursor: 'c1' },
      c1: { items: [3, 4], nextCursor: 'c2' },
      c2: { items: [5] },
    };
    api = await startFakeApi((request) => {
      const cursor = new URL(request.url, 'http://x').searchParams.get('cursor') ?? '';
      return { status: 200, body: pages[cursor] };
    });
    client = new ApiClient({ baseUrl: api.url });
    expect(await client.list(['v1', 'pools'])).toEqual({ items: [1, 2, 3, 4, 5] });
    expect(api.requests.map((request) => request.url)).toEqual([
      '/v1/pools?limit=100',
      '/v1/pools?limit=100&cursor=c1',
      '/v1/pools?limit=100&cursor=c2',
    ]);
  });

  it('stops at --limit and passes on the cursor of what is left', async () => {
    api = await startFakeApi((request) => {
      const limit = Number(new URL(request.url, 'http://x').searchParams.get('limit'));
      return { status: 200, body: { items: Array.from({ length: limit }, (_, i) => i), nextCursor: 'more' } };
    });
    client = new ApiClient({ baseUrl: api.url });
    const page = await client.list(['v1', 'tokens'], 3);
    expect(page).toEqual({ items: [0, 1, 2], nextCursor: 'more' });
    expect(api.requests).toHaveLength(1);
  });

  it('refuses a cursor that comes back (a server that would make it loop forever)', async () => {
    api = await startFakeApi(() => ({ status: 200, body: { items: [1], nextCursor: 'same' } }));
    client = new ApiClient({ baseUrl: api.url });
    await expect(client.list(['v1', 'pools'])).rejects.toThrow(/repeated a page cursor/);
  });

  it("turns the API's error body into an ApiError with its issues", async () => {
    const body = {
      error: {
        code: 'invalid_request',
        message: 'invalid request: body.url',
        issues: [{ path: 'body.url', message: 'not a backend URL' }],
      },
    };
    api = await startFakeApi(() => ({ status: 400, body }));
    client = new ApiClient({ baseUrl: api.url, token: 'tok' });
    const err = await client
      .call('POST', ['v1', 'pools', 'p', 'backends'], { body: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 400,
      code: 'invalid_request',
      message: 'invalid request: body.url',
      issues: [{ path: 'body.url', message: 'not a backend URL' }],
      body,
    });
  });

  it('says when the answer is not the registry API', async () => {
    api = await startFakeApi(() => ({
      status: 502,
      raw: '<html>bad gateway</html>',
      contentType: 'text/html',
    }));
    client = new ApiClient({ baseUrl: api.url });
    await expect(client.call('GET', ['v1', 'pools'])).rejects.toThrow(
      /did not answer as the ftpx registry API does \(HTTP 502, text\/html\)/,
    );
    await expect(client.list(['v1', 'pools'])).rejects.toBeInstanceOf(ApiUnreachableError);
  });

  it('names the URL (without credentials) when nothing listens there', async () => {
    const port = await closedPort();
    client = new ApiClient({ baseUrl: `http://admin:pw@127.0.0.1:${port}`, token: 'never-shown' });
    const err = (await client.call('GET', ['v1', 'pools']).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect(err.message).toBe(
      `cannot reach the control plane at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(err.message).not.toMatch(/pw|never-shown/);
  });
});

/** A port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
