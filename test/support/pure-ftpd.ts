import { chown, mkdir, writeFile } from 'node:fs/promises';
import { findBinary } from './binaries.js';
import { sha512Crypt } from './password-hash.js';
import { runCommand } from './run-command.js';
import type { Launcher } from './server-launch.js';

const USER = 'ftpx';
const PASSWORD = 'ftpx-pass';
/** nobody/nogroup: the virtual user needs a real uid to own its files, and this one exists everywhere. */
const NOBODY = 65534;

/**
 * Pure-FTPd with one virtual user in its own PureDB. Pure-FTPd has no config file of its own (Debian's
 * wrapper turns /etc/pure-ftpd into flags), so everything is on the command line.
 */
export const launchPureFtpd: Launcher = async ({ name, host, port, workDir }) => {
  const homeDir = `${workDir}/home`;
  await mkdir(homeDir);
  await chown(homeDir, NOBODY, NOBODY);
  const database = `${workDir}/pureftpd.pdb`;
  await writeUserDatabase(`${workDir}/pureftpd.passwd`, database, homeDir);
  // The greeting cannot be set directly; a "fortunes" file with one entry puts its text in every greeting.
  const fortunes = `${workDir}/greeting`;
  await writeFile(fortunes, `${name} ready\n`);
  const transferLog = `${workDir}/xferlog`;
  return {
    command: findBinary('/usr/sbin/pure-ftpd'),
    args: [
      `--bind=${host},${port}`,
      `--login=puredb:${database}`,
      '--noanonymous',
      '--chrooteveryone',
      '--dontresolve',
      `--fortunesfile=${fortunes}`,
      `--altlog=clf:${transferLog}`,
      // The default cap of 50 clients is low for parallel tests, which all come from 127.0.0.1.
      '--maxclientsnumber=500',
      '--maxclientsperip=500',
      // No syslog daemon runs here; failures still reach stderr.
      '--syslogfacility=none',
    ],
    user: USER,
    password: PASSWORD,
    homeDir,
    transferLog,
    logFiles: [],
  };
};

/**
 * Writes the user to a pure-pw style passwd file and compiles it into a PureDB. `pure-pw useradd` is not
 * used because it always hashes with argon2id, which costs seconds per login. The `/./` suffix on the
 * home marks where the user is chrooted.
 */
async function writeUserDatabase(passwdFile: string, database: string, homeDir: string): Promise<void> {
  const hash = await sha512Crypt(PASSWORD);
  const emptyFields = ':'.repeat(12);
  await writeFile(passwdFile, `${USER}:${hash}:${NOBODY}:${NOBODY}::${homeDir}/./${emptyFields}\n`, {
    mode: 0o600,
  });
  const run = await runCommand(findBinary('/usr/bin/pure-pw'), ['mkdb', database, '-f', passwdFile]);
  if (run.code !== 0) throw new Error(`pure-pw mkdb failed: ${run.stderr || run.stdout.toString()}`);
}
