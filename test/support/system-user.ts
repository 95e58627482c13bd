import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SystemUser {
  name: string;
  password: string;
  uid: number;
  gid: number;
}

const NAME = 'ftpxtest';
/** Fixed, because the account is shared by every vsftpd instance and every test worker at once. */
const PASSWORD = 'ftpxtest-pass';
/** useradd's exit status for "username already in use": another worker got there first. */
const USERADD_NAME_IN_USE = 9;

let ready: Promise<SystemUser> | undefined;

/**
 * vsftpd only logs in real accounts through PAM, so the tests need one system user. It is created once per
 * machine (home `/` because vsftpd chdirs there before moving to its configured root) and its password is
 * reset once per process, in case an earlier run left another one.
 */
export function ensureSystemUser(): Promise<SystemUser> {
  ready ??= setUp().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

async function setUp(): Promise<SystemUser> {
  if ((await lookUp()) === undefined) {
    await retrying(() =>
      run('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/',
        '--shell',
        '/bin/sh',
        NAME,
      ]),
    ).catch((error: { code?: unknown }) => {
      if (error.code !== USERADD_NAME_IN_USE) throw error;
    });
  }
  await retrying(() => setPassword());
  const ids = await lookUp();
  if (ids === undefined) throw new Error(`system user ${NAME} is still missing after useradd`);
  return { name: NAME, password: PASSWORD, ...ids };
}

async function lookUp(): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', NAME]);
    const [, , uid, gid] = stdout.trim().split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

function setPassword(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('chpasswd', (error) => (error ? reject(error) : resolve()));
    child.stdin?.end(`${NAME}:${PASSWORD}\n`);
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
