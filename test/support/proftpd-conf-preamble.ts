/**
 * The lines every ProFTPD the tests start begins with: a standalone server on one loopback port
 * whose pid, scoreboard and log files live in `workDir`, without the parts that would slow tests
 * down or make instances collide (mod_delay's login padding, a control socket at a fixed path, wtmp,
 * reverse DNS).
 */
export function proftpdPreamble(options: {
  name: string;
  port: number;
  workDir: string;
  host?: string;
  /** ServerIdent "<name> ready": the banner names the server (tests tell backends apart by it). */
  ident?: boolean;
}): string {
  const { name, port, workDir } = options;
  return `ServerName "${name}"
ServerType standalone
${options.ident ? `ServerIdent on "${name} ready"\n` : ''}DefaultAddress ${options.host ?? '127.0.0.1'}
Port ${port}
SocketBindTight on
User nobody
Group nogroup
MaxInstances 500
PidFile ${workDir}/proftpd.pid
ScoreboardFile ${workDir}/proftpd.scoreboard
SystemLog ${workDir}/proftpd.log
WtmpLog off
UseReverseDNS off
<IfModule mod_delay.c>
  DelayEngine off
</IfModule>
<IfModule mod_ctrls.c>
  ControlsEngine off
</IfModule>
`;
}
