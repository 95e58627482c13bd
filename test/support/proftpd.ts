import { chown, mkdir, writeFile } from 'node:fs/promises';
import { findBinary } from './binaries.js';
import { sha512Crypt } from './password-hash.js';
import type { BackendTlsOptions, Launcher } from './server-launch.js';

const USER = 'ftpx';
const PASSWORD = 'ftpx-pass';
/** nobody/nogroup: the virtual user needs a real uid to own its files, and this one exists everywhere. */
const NOBODY = 65534;

/**
 * ProFTPD with one virtual user from its own AuthUserFile, chrooted to its home. Nothing from
 * /etc/proftpd is read: every path the daemon would otherwise put in /run or /var/log lives in the work dir,
 * so several instances can run side by side.
 */
export const launchProftpd: Launcher = async ({
  name,
  host,
  port,
  workDir,
  passiveAddress,
  idleTimeoutSeconds,
  extraConfig,
  tls,
}) => {
  const homeDir = `${workDir}/home`;
  await mkdir(homeDir);
  await chown(homeDir, NOBODY, NOBODY);
  const authUserFile = `${workDir}/ftpd.passwd`;
  const hash = await sha512Crypt(PASSWORD);
  await writeFile(authUserFile, `${USER}:${hash}:${NOBODY}:${NOBODY}::${homeDir}:/bin/sh\n`, { mode: 0o600 });
  const transferLog = `${workDir}/xferlog`;
  const systemLog = `${workDir}/proftpd.log`;
  const config = `${workDir}/proftpd.conf`;
  await writeFile(
    config,
    `ServerName "${name}"
ServerType standalone
ServerIdent on "${name} ready"
DefaultAddress ${host}
Port ${port}
SocketBindTight on
User nobody
Group nogroup
MaxInstances 500
PidFile ${workDir}/proftpd.pid
ScoreboardFile ${workDir}/proftpd.scoreboard
SystemLog ${systemLog}
TransferLog ${transferLog}
WtmpLog off
UseReverseDNS off
<IfModule mod_ident.c>
  IdentLookups off
</IfModule>
# mod_delay would stretch every login to hide timing differences; the tests want speed.
<IfModule mod_delay.c>
  DelayEngine off
  DelayTable ${workDir}/proftpd.delay
</IfModule>
# A control socket would live at a fixed path shared by every instance.
<IfModule mod_ctrls.c>
  ControlsEngine off
</IfModule>
AuthOrder mod_auth_file.c
AuthUserFile ${authUserFile}
RequireValidShell off
DefaultRoot ~
Umask 022
AllowOverwrite on
# Needed for APPE and REST+STOR, which ProFTPD refuses by default.
AllowStoreRestart on
AllowRetrieveRestart on
${tls ? proftpdTls(tls, workDir) : ''}${passiveAddress ? `MasqueradeAddress ${passiveAddress}\n` : ''}${idleTimeoutSeconds ? `TimeoutIdle ${idleTimeoutSeconds}\n` : ''}${extraConfig ?? ''}`,
  );
  return {
    command: findBinary('/usr/sbin/proftpd'),
    // -n: stay in the foreground so the pid we hold is the master's; -q: no startup chatter.
    args: ['-n', '-q', '-c', config],
    user: USER,
    password: PASSWORD,
    homeDir,
    transferLog,
    logFiles: tls ? [systemLog, `${workDir}/tls.log`] : [systemLog],
  };
};

/** mod_tls as a ProFTPD admin writes it; session reuse on data connections is required (the default). */
function proftpdTls(tls: BackendTlsOptions, workDir: string): string {
  const options = [tls.implicit ? 'UseImplicitSSL' : '', 'EnableDiags'].filter(Boolean).join(' ');
  return `<IfModule !mod_tls.c>
  LoadModule mod_tls.c
</IfModule>
TLSEngine on
TLSLog ${workDir}/tls.log
TLSProtocol TLSv1.2${tls.maxProtocol === 'TLSv1.2' ? '' : ' TLSv1.3'}
TLSECCertificateFile ${tls.cert}
TLSECCertificateKeyFile ${tls.key}
TLSRequired ${tls.required ? 'on' : 'off'}
TLSOptions ${options}
${tls.serverCipherPreference === false ? 'TLSServerCipherPreference off\n' : ''}${tls.clientCa ? `TLSCACertificateFile ${tls.clientCa}\nTLSVerifyClient on\n` : 'TLSVerifyClient off\n'}`;
}
