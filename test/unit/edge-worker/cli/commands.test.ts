import { afterEach, describe, expect, it } from 'vitest';
import { operatorGroup, runCommandGroup } from '../../../../edge-worker/cli/admin/index.js';
import { bufferIo, type FakeApi, type FakeReply, type RecordedRequest, startFakeApi } from './fake-api.js';

const TOKEN = 'unit-secret-token-never-printed';

/** Runs `ftpx <argv>` for an operator command group against a fake API. */
async function run(
  argv: string[],
  options: { api?: FakeApi; env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [name = '', ...rest] = argv;
  const group = operatorGroup(name);
  if (!group) throw new Error(`no group ${name}`);
  const env = {
    ...(options.api ? { FTPX_API_URL: options.api.url } : {}),
    FTPX_API_TOKEN: TOKEN,
    ...options.env,
  };
  const buffers = bufferIo(env, options.stdin);
  const code = await runCommandGroup(group, rest, buffers.io);
  const result = { code, stdout: buffers.stdout(), stderr: buffers.stderr() };
  expect(result.stdout + result.stderr).not.toContain(TOKEN);
  return result;
}

const times = { createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:00.000Z', version: 1 };

describe('operator commands', () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const serve = async (reply: (request: RecordedRequest) => FakeReply) => {
    api = await startFakeApi(reply);
    return api;
  };

  it('refuses wrong command lines with exit code 2 before calling anything', async () => {
    const cases: [string[], RegExp][] = [
      [['pools'], /pools needs a subcommand: list, get, create, update, delete/],
      [['pools', 'drop', 'x'], /unknown pools subcommand "drop"/],
      [['pools', 'get'], /pools get needs NAME/],
      [['pools', 'get', 'a', 'b'], /pools get takes NAME; got "b" too/],
      [['pools', 'update', 'a'], /give --policy, --description or --proxy-auth/],
      [['backends', 'add', 'main'], /backends add needs URL/],
      [['backends', 'add', 'main', 'ftp://h', '--label', 'novalue'], /--label takes NAME=VALUE/],
      [['backends', 'add', 'main', 'ftp://h', '--weight', 'x'], /--weight must be a whole number/],
      [['backends', 'list', 'main', '--limit', '0'], /--limit must be a whole number of at least 1/],
      [['backends', 'list', 'main', '--bogus'], /Unknown option '--bogus'/],
      [['users', 'map', 'main', 'alice'], /users map needs URL/],
      [['tokens', 'create', 'ci'], /--scope is required: read, write or admin/],
      [['proxy-users', 'create', 'main', 'bob', '--primary-group', 'staff'], /--password-stdin/],
      [['pools', 'list', '--api', 'ftp://cp'], /--api must be an http:\/\/ or https:\/\/ URL/],
      [['pools', 'list', '--token', ''], /--token must not be empty/],
      [['pools', 'list', '--token', 'has space'], /--token is not a token/],
    ];
    for (const [argv, message] of cases) {
      const result = await run(argv, { env: { FTPX_API_URL: 'http://127.0.0.1:1' } });
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(message);
      expect(result.stderr, argv.join(' ')).toMatch(/\nUsage: ftpx /);
      expect(result.stdout).toBe('');
    }
  });

  it('prints help on --help with exit code 0', async () => {
    const group = await run(['backends', '--help']);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/ftpx backends add POOL URL \[--id ID\] \[--disabled\]/);
    const one = await run(['tokens', 'create', '--help']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^Usage: ftpx tokens create NAME \[--scope SCOPE\]/);
  });

  it('adds a backend with POST, or with PUT under a chosen id', async () => {
    await serve((request) => ({
      status: 201,
      body: {
        pool: 'main',
        id: request.method === 'PUT' ? 'b1' : 'gen1',
        url: 'ftp://u:***@10.0.0.5',
        backend: 'ftp://10.0.0.5:21',
        enabled: request.method !== 'PUT',
        ...times,
      },
    }));
    const posted = await run(['backends', 'add', 'main', 'ftp://u:pw@10.0.0.5', '--label', 'zone=a'], {
      api,
    });
    expect(posted).toMatchObject({
      code: 0,
      stdout: 'added backend gen1 (ftp://u:***@10.0.0.5) to pool "main"\n',
    });
    const put = await run(
      ['backends', 'add', 'main', 'ftp://10.0.0.5', '--id', 'b1', '--disabled', '--weight', '5'],
      {
        api,
      },
    );
    expect(put.stdout).toBe('added backend b1 (ftp://u:***@10.0.0.5) to pool "main", disabled\n');
    const [first, second] = api?.requests ?? [];
    expect([first?.method, first?.url]).toEqual(['POST', '/v1/pools/main/backends']);
    expect(JSON.parse(first?.body ?? '')).toEqual({
      url: 'ftp://u:pw@10.0.0.5',
      enabled: true,
      labels: { zone: 'a' },
    });
    expect([second?.method, second?.url]).toEqual(['PUT', '/v1/pools/main/backends/b1']);
    expect(JSON.parse(second?.body ?? '')).toEqual({ url: 'ftp://10.0.0.5', enabled: false, weight: 5 });
  });

  it('lists every page as one table, or as the API JSON with --json', async () => {
    await serve((request) => {
      const cursor = new URL(request.url, 'http://x').searchParams.get('cursor');
      return cursor
        ? {
            status: 200,
            body: { items: [{ pool: 'main', user: 'bob', backends: ['ftp://b:21'], ...times }] },
          }
        : {
            status: 200,
            body: {
              items: [{ pool: 'main', user: 'alice', backends: ['ftp://a:21', 'ftp://c:21'], ...times }],
              nextCursor: 'n',
            },
          };
    });
    const text = await run(['users', 'list', 'main'], { api });
    expect(text.stdout).toBe('USER   BACKENDS\nalice  ftp://a:21, ftp://c:21\nbob    ftp://b:21\n');
    const json = await run(['users', 'list', 'main', '--json'], { api });
    expect(JSON.parse(json.stdout).items.map((item: { user: string }) => item.user)).toEqual([
      'alice',
      'bob',
    ]);
    const limited = await run(['users', 'list', 'main', '--limit', '1'], { api });
    expect(limited.stdout).toBe('USER   BACKENDS\nalice  ftp://a:21, ftp://c:21\n');
    expect(limited.stderr).toMatch(/there are more; raise --limit/);
  });

  it('prints the one-time secret of a new token alone on stdout, and nothing else of it anywhere else', async () => {
    const secret = 'ftpx_NewSecretShownOnce';
    await serve(() => ({
      status: 201,
      body: { id: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'ci', scope: 'write', pools: ['a', 'b'], secret, ...times },
    }));
    const result = await run(['tokens', 'create', 'ci', '--scope', 'write', '--pools', 'a, b'], { api });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${secret}\n`);
    expect(result.stderr).toMatch(/created token AAAAAAAAAAAAAAAAAAAAAA "ci" \(scope write, pools a,b\)/);
    expect(result.stderr).toMatch(/shown only this once/);
    expect(result.stderr).not.toContain(secret);
    expect(JSON.parse(api?.requests[0]?.body ?? '')).toEqual({
      name: 'ci',
      scope: 'write',
      pools: ['a', 'b'],
    });
    const json = await run(['tokens', 'create', 'ci', '--scope', 'admin', '--json'], { api });
    expect(JSON.parse(json.stdout).secret).toBe(secret);
    expect(JSON.parse(api?.requests[1]?.body ?? '')).toEqual({ name: 'ci', scope: 'admin', pools: '*' });
  });

  it("takes an id that begins with '-' (a base64url token id, one in 64) as the id, not as options", async () => {
    await serve(() => ({ status: 204, body: undefined }));
    const id = '-zjd7oNkWg1zVYYiSOy4KQ';
    const revoked = await run(['tokens', 'revoke', id], { api });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked token ${id}\n`);
    expect(api?.requests[0]).toMatchObject({ method: 'DELETE', url: `/v1/tokens/${id}` });
    // After the id, options still work; `--` is still honoured; a real unknown option is still refused.
    const json = await run(['tokens', 'revoke', id, '--json'], { api });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toBe('');
    const dashed = await run(['tokens', 'revoke', '--', id], { api });
    expect(dashed.code, dashed.stderr).toBe(0);
    expect(api?.requests.map((request) => request.url)).toEqual(Array(3).fill(`/v1/tokens/${id}`));
    const unknown = await run(['tokens', 'revoke', id, '--bogus'], { api });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--bogus'/);
    const help = await run(['tokens', 'revoke', '-h']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ftpx tokens revoke ID/);
  });

  it('reads a proxy user password from standard input only', async () => {
    await serve(() => ({
      status: 201,
      body: { pool: 'main', name: 'bob', primaryGroup: 'staff', groups: ['ops'], enabled: true, ...times },
    }));
    const result = await run(
      [
        'proxy-users',
        'create',
        'main',
        'bob',
        '--primary-group',
        'staff',
        '--groups',
        'ops',
        '--password-stdin',
      ],
      { api, stdin: 'pa ss\n' },
    );
    expect(result).toMatchObject({ code: 0, stdout: 'created proxy user "bob" in pool "main"\n' });
    expect(JSON.parse(api?.requests[0]?.body ?? '')).toEqual({
      name: 'bob',
      password: 'pa ss',
      primaryGroup: 'staff',
      groups: ['ops'],
      enabled: true,
    });
    const empty = await run(['proxy-users', 'set-password', 'main', 'bob', '--password-stdin'], {
      api,
      stdin: '\n',
    });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/the password on standard input is empty/);
  });

  it('reports API errors with their issues and exit code 1; --json also prints the error body', async () => {
    const error = {
      error: {
        code: 'invalid_request',
        message: 'invalid request: body.backends.0',
        issues: [{ path: 'body.backends.0', message: 'not a backend URL' }],
      },
    };
    await serve(() => ({ status: 400, body: error }));
    const text = await run(['groups', 'map', 'main', 'staff', 'http://x'], { api });
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toBe(
      'ftpx: invalid request: body.backends.0 (HTTP 400 invalid_request)\n  body.backends.0: not a backend URL\n',
    );
    const json = await run(['groups', 'map', 'main', 'staff', 'http://x', '--json'], { api });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(error);
    expect(api?.requests[0]?.url).toBe('/v1/pools/main/groups/staff/backends');
  });

  it('says how to give a token after a 401 without one', async () => {
    await serve(() => ({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'a valid bearer token is required' } },
    }));
    const result = await run(['pools', 'list'], { api, env: { FTPX_API_TOKEN: '' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/give a token with --token TOKEN or FTPX_API_TOKEN/);
    expect(api?.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('prefers --api and --token over the environment', async () => {
    await serve(() => ({ status: 200, body: { items: [] } }));
    const result = await run(['pools', 'list', '--api', api?.url ?? '', '--token', 'option-token'], {
      env: { FTPX_API_URL: 'http://127.0.0.1:1' },
    });
    expect(result).toMatchObject({ code: 0, stdout: 'no pools\n' });
    expect(api?.requests[0]?.headers.authorization).toBe('Bearer option-token');
  });
});
