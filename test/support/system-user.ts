import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SystemUser {
  name: string;
  password: string;
  uid: number;
  gid: number;
  home: string;
}

/** An account with a password and a home directory of its own, which `setUp` creates. */
interface Account {
  name: string;
  password: string;
  home: string;
}

const NAME = 'ftpxtest';
/** Fixed, because the account is shared by every vsftpd instance and every test worker at once. */
const PASSWORD = 'ftpxtest-pass';
/** useradd's exit status for "username already in use": another worker got there first. */
const USERADD_NAME_IN_USE = 9;

let ready: Promise<SystemUser> | undefined;
let sshReady: Promise<SystemUser> | undefined;

/**
 * The SSH test account (OpenSSH sshd backends): unlike vsftpd's, it has a home of its own, because
 * sshd reads ~/.shosts and ~/.ssh/known_hosts there for hostbased logins.
 */
export function ensureSshUser(): Promise<SystemUser> {
  sshReady ??= setUp({ name: 'ftpxssh', password: 'ftpxssh-pass', home: '/var/lib/ftpxssh' }).catch(
    (error: unknown) => {
      sshReady = undefined;
      throw error;
    },
  );
  return sshReady;
}

/**
 * vsftpd only logs in real accounts through PAM, so the tests need one system user. It is created once per
 * machine (home `/` because vsftpd chdirs there before moving to its configured root) and its password is
 * reset once per process, in case an earlier run left another one.
 */
export function ensureSystemUser(): Promise<SystemUser> {
  ready ??= setUp({ name: NAME, password: PASSWORD, home: '/' }).catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

async function setUp(account: Account): Promise<SystemUser> {
  const { name, password, home } = account;
  if ((await lookUp(name)) === undefined) {
    await retrying(() =>
      run('useradd', [
        '--system',
        '--user-group',
        ...(home === '/' ? ['--no-create-home'] : ['--create-home']),
        '--home-dir',
        home,
        '--shell',
        '/bin/sh',
        name,
      ]),
    ).catch((error: { code?: unknown }) => {
      if (error.code !== USERADD_NAME_IN_USE) throw error;
    });
  }
  await retrying(() => setPassword(name, password));
  const ids = await lookUp(name);
  if (ids === undefined) throw new Error(`system user ${name} is still missing after useradd`);
  return { name, password, home, ...ids };
}

async function lookUp(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    const [, , uid, gid] = stdout.trim().split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

function setPassword(name: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('chpasswd', (error) => (error ? reject(error) : resolve()));
    child.stdin?.end(`${name}:${password}\n`);
  });
}

/** The shadow tools fail rather than wait when another worker holds the password-file lock. */
async function retrying<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= 5 || code === USERADD_NAME_IN_USE) throw error;
      await delay(200 * attempt);
    }
  }
}
