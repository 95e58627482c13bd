import { describe, expect, it } from 'vitest';
import {
  AuthFileError,
  formatIssue,
  importAuthUsers,
  parseAuthGroupFile,
  parseAuthUserFile,
  usersFromAuthFiles,
} from '../../../../../functions/core/auth/auth-user-file.js';
import type { Table } from '../../../../../functions/core/store/table.js';

const SHA = '$6$salt$hash';

describe('parseAuthUserFile', () => {
  it('reads entries, skipping comments and blank lines, with CRLF line ends', () => {
    const text = [
      '# ProFTPD AuthUserFile',
      '',
      `alice:${SHA}:1001:100:Alice A.:/home/alice:/bin/bash`,
      '   # indented comment',
      '   ',
      'bob:$1$abc$OGyl6dDvZCDiGmIVbeuCq/:1002:200::/home/bob:/bin/false\r',
      '',
    ].join('\n');
    const { entries, errors } = parseAuthUserFile(text);
    expect(errors).toEqual([]);
    expect(entries).toEqual([
      {
        line: 3,
        name: 'alice',
        hash: SHA,
        uid: 1001,
        gid: 100,
        gecos: 'Alice A.',
        home: '/home/alice',
        shell: '/bin/bash',
      },
      {
        line: 6,
        name: 'bob',
        hash: '$1$abc$OGyl6dDvZCDiGmIVbeuCq/',
        uid: 1002,
        gid: 200,
        gecos: '',
        home: '/home/bob',
        shell: '/bin/false',
      },
    ]);
  });

  it('reports malformed lines with their numbers and keeps the rest', () => {
    const text = [
      `ok:${SHA}:1:1:::`,
      'short:x:1:1',
      `toolong:${SHA}:1:1:g:/h:/s:extra`,
      `baduid:${SHA}:-1:1:g:/h:/s`,
      `badgid:${SHA}:1:abc:g:/h:/s`,
      `huge:${SHA}:99999999999:1:g:/h:/s`,
      `:${SHA}:1:1:g:/h:/s`,
      `ctl\u0001name:${SHA}:1:1:g:/h:/s`,
      `ok:${SHA}:2:2:g:/h:/s`,
      `fine:${SHA}:3:3:g:/h:/s`,
    ].join('\n');
    const { entries, errors } = parseAuthUserFile(text);
    expect(entries.map((entry) => [entry.line, entry.name])).toEqual([
      [1, 'ok'],
      [10, 'fine'],
    ]);
    expect(errors.map((error) => error.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(errors.every((error) => error.file === 'AuthUserFile')).toBe(true);
    expect(errors[0]?.message).toBe('expected 7 fields (name:hash:uid:gid:gecos:home:shell), found 4');
    expect(errors[1]?.message).toMatch(/found 8/);
    expect(errors[2]?.message).toBe('uid "-1" of user "baduid" is not a number');
    expect(errors[3]?.message).toBe('gid "abc" of user "badgid" is not a number');
    expect(errors[4]?.message).toMatch(/uid "99999999999"/);
    expect(errors[5]?.message).toMatch(/^user name "":/);
    expect(errors[6]?.message).toMatch(/control characters/);
    expect(errors[7]?.message).toBe('user "ok" is already defined on line 1');
    expect(formatIssue(errors[7] as never)).toBe(
      'AuthUserFile line 9: user "ok" is already defined on line 1',
    );
  });
});

describe('parseAuthGroupFile', () => {
  it('reads groups and their members', () => {
    const text = [
      '# groups',
      'staff:x:100:alice,bob',
      'ops::200:',
      'dev:*:300: carol , alice ,,alice',
      '',
    ].join('\n');
    const { entries, errors } = parseAuthGroupFile(text);
    expect(errors).toEqual([]);
    expect(entries).toEqual([
      { line: 2, name: 'staff', gid: 100, members: ['alice', 'bob'] },
      { line: 3, name: 'ops', gid: 200, members: [] },
      { line: 4, name: 'dev', gid: 300, members: ['carol', 'alice'] },
    ]);
  });

  it('reports malformed lines with their numbers', () => {
    const text = ['staff:x:100:alice', 'nogid:x::alice', 'three:x:1', 'staff:x:101:', 'fine:x:7:bob'].join(
      '\n',
    );
    const { entries, errors } = parseAuthGroupFile(text);
    expect(entries.map((entry) => entry.name)).toEqual(['staff', 'fine']);
    expect(errors).toEqual([
      { file: 'AuthGroupFile', line: 2, message: 'gid "" of group "nogid" is not a number' },
      { file: 'AuthGroupFile', line: 3, message: 'expected 4 fields (name:password:gid:members), found 3' },
      { file: 'AuthGroupFile', line: 4, message: 'group "staff" is already defined on line 1' },
    ]);
  });
});

describe('usersFromAuthFiles', () => {
  const passwd = parseAuthUserFile(
    [
      `alice:${SHA}:1:100:::`,
      `bob:${SHA}:2:200:::`,
      `carol:${SHA}:3:999:::`,
      'locked:!$6$s$h:4:100:::',
      'star:*:5:100:::',
      'empty::6:100:::',
      'shadow:x:7:100:::',
      'legacy:$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.:8:100:::',
      'htpasswd:$2y$05$0123456789abcdefghijkeImLoEFAQpLAPQRUB8Ht5MuKX8R/sj4i:9:100:::',
    ].join('\n'),
  );
  const groups = parseAuthGroupFile(
    ['staff:x:100:bob,carol', 'ops:x:200:alice,bob', 'dev:x:300:alice', 'staff2:x:100:alice'].join('\n'),
  );

  it('takes the primary group by gid and the other groups by membership', () => {
    const { users } = usersFromAuthFiles(passwd, groups);
    const byName = new Map(users.map((user) => [user.name, user]));
    expect(byName.get('alice')).toMatchObject({ primaryGroup: 'staff', groups: ['ops', 'dev', 'staff2'] });
    // bob's own primary group is not repeated among his other groups.
    expect(byName.get('bob')).toMatchObject({ primaryGroup: 'ops', groups: ['staff'] });
    expect(byName.get('carol')).toMatchObject({ primaryGroup: '999', groups: ['staff'] });
  });

  it('keeps hashes as they are and disables locked, empty and shadowed accounts', () => {
    const { users, warnings } = usersFromAuthFiles(passwd, groups);
    const byName = new Map(users.map((user) => [user.name, user]));
    expect(byName.get('alice')).toMatchObject({ passwordHash: SHA, enabled: true });
    expect(byName.get('locked')).toMatchObject({ passwordHash: '!$6$s$h', enabled: false });
    expect(byName.get('star')?.enabled).toBe(false);
    expect(byName.get('empty')?.enabled).toBe(false);
    expect(byName.get('shadow')?.enabled).toBe(false);
    expect(byName.get('legacy')).toMatchObject({ enabled: true });
    // bcrypt is verified: no warning for it.
    expect(byName.get('htpasswd')).toMatchObject({ enabled: true });
    expect(warnings.map(formatIssue)).toEqual([
      'AuthUserFile line 3: no group has gid 999: user "carol" gets primary group "999"',
      'AuthUserFile line 4: user "locked" has a locked account: imported disabled',
      'AuthUserFile line 5: user "star" has a locked account: imported disabled',
      'AuthUserFile line 6: user "empty" has no password hash: imported disabled',
      'AuthUserFile line 7: user "shadow" has its password in a shadow file ("x"): imported disabled',
      'AuthUserFile line 8: user "legacy" has a yescrypt hash, which ftpx cannot verify: the user cannot log in until a password is set through the registry API',
    ]);
  });

  it('uses the gid as the primary group without a group file, silently', () => {
    const { users, warnings } = usersFromAuthFiles(parseAuthUserFile(`alice:${SHA}:1:100:::`));
    expect(users[0]).toMatchObject({ primaryGroup: '100', groups: [] });
    expect(warnings).toEqual([]);
  });
});

describe('importAuthUsers, strict', () => {
  it('writes nothing when a file has errors', async () => {
    const table = {
      name: 'unused',
      client: { send: () => Promise.reject(new Error('no store')) },
    } as never as Table;
    const error = await importAuthUsers(
      table,
      'p',
      { users: `alice:${SHA}:1:1:::\nbroken line` },
      { strict: true },
    ).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AuthFileError);
    expect((error as AuthFileError).issues).toEqual([
      {
        file: 'AuthUserFile',
        line: 2,
        message: 'expected 7 fields (name:hash:uid:gid:gecos:home:shell), found 1',
      },
    ]);
  });
});
