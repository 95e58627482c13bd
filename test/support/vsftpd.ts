import { chown, mkdir, writeFile } from 'node:fs/promises';
import { findBinary } from './binaries.js';
import type { BackendTlsOptions, Launcher } from './server-launch.js';
import { ensureSystemUser } from './system-user.js';

/**
 * vsftpd serving the shared system user, chrooted to a home in the work dir. vsftpd has no MLSD/MLST.
 */
export const launchVsftpd: Launcher = async ({ name, host, port, workDir, tls }) => {
  const user = await ensureSystemUser();
  const homeDir = `${workDir}/home`;
  await mkdir(homeDir);
  await chown(homeDir, user.uid, user.gid);
  // vsftpd insists on an empty directory, owned by root and not writable by others, to jail its helpers.
  const emptyDir = `${workDir}/empty`;
  await mkdir(emptyDir, { mode: 0o755 });
  const transferLog = `${workDir}/xferlog`;
  const sessionLog = `${workDir}/vsftpd.log`;
  const config = `${workDir}/vsftpd.conf`;
  await writeFile(
    config,
    `listen=YES
listen_ipv6=NO
listen_address=${host}
listen_port=${port}
background=NO
ftpd_banner=${name} ready
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=${homeDir}
chroot_local_user=YES
allow_writeable_chroot=YES
secure_chroot_dir=${emptyDir}
nopriv_user=nobody
# Debian's own /etc/pam.d/vsftpd is not installed (the package is only unpacked); "other" is PAM's
# always-present fallback and authenticates against the system's password files.
pam_service_name=other
delay_failed_login=0
# Without this vsftpd ignores an ABOR until the transfer ends or its data connection breaks.
async_abor_enable=YES
# The seccomp sandbox and the network namespaces are not available in every container.
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=YES
dual_log_enable=YES
xferlog_std_format=NO
vsftpd_log_file=${sessionLog}
xferlog_file=${transferLog}
${tls ? vsftpdTls(tls) : ''}`,
  );
  return {
    command: findBinary('/usr/sbin/vsftpd'),
    args: [config],
    user: user.name,
    password: user.password,
    homeDir,
    transferLog,
    logFiles: [sessionLog],
  };
};

/** ssl_enable with require_ssl_reuse=YES: data connections must resume the control session. */
function vsftpdTls(tls: BackendTlsOptions): string {
  return `ssl_enable=YES
rsa_cert_file=${tls.cert}
rsa_private_key_file=${tls.key}
require_ssl_reuse=YES
ssl_ciphers=HIGH
allow_anon_ssl=NO
force_local_logins_ssl=${tls.required ? 'YES' : 'NO'}
force_local_data_ssl=${tls.required ? 'YES' : 'NO'}
implicit_ssl=${tls.implicit ? 'YES' : 'NO'}
${tls.clientCa ? `require_cert=YES\nvalidate_cert=YES\nca_certs_file=${tls.clientCa}\n` : ''}`;
}
