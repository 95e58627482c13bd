import { SFTP_IGNORED, SFTP_LISTENER_DIRECTIVES, SFTP_POOL_DIRECTIVES } from './sftp-directives.js';
import { TLS_DIRECTIVE_SPECS } from './tls-directives.js';

/** Where a directive sits: the main server ("server config"), a `<Global>` section or a `<VirtualHost>`. */
export type ScopeKind = 'server' | 'global' | 'vhost';

/**
 * handled: mapped onto the native configuration (see import.ts).
 * ignored: accepted with a warning giving `reason`.
 * unsupported: an error; `reason` says why.
 */
export type DirectiveKind = 'handled' | 'ignored' | 'unsupported';

export interface DirectiveSpec {
  /** Canonical spelling; directive names are matched case-insensitively. */
  name: string;
  kind: DirectiveKind;
  /** Where the directive may appear; everywhere when omitted. */
  scopes?: readonly ScopeKind[];
  reason?: string;
}

const SERVER_ONLY: readonly ScopeKind[] = ['server'];
const SERVER_AND_VHOST: readonly ScopeKind[] = ['server', 'vhost'];

const HANDLED: DirectiveSpec[] = [
  { name: 'ProxyEngine', kind: 'handled' },
  { name: 'ProxyRole', kind: 'handled' },
  { name: 'ProxyReverseServers', kind: 'handled' },
  { name: 'ProxyReverseConnectPolicy', kind: 'handled' },
  { name: 'ProxyRetryCount', kind: 'handled' },
  { name: 'ProxyTimeoutConnect', kind: 'handled' },
  { name: 'ProxyTables', kind: 'handled', scopes: SERVER_ONLY },
  { name: 'ProxyLog', kind: 'handled' },
  { name: 'TransferLog', kind: 'handled' },
  { name: 'ProxyDatastore', kind: 'handled', scopes: SERVER_ONLY },
  { name: 'ProxyDataTransferPolicy', kind: 'handled' },
  { name: 'ProxyDirectoryListPolicy', kind: 'handled' },
  { name: 'Port', kind: 'handled', scopes: SERVER_AND_VHOST },
  { name: 'DefaultAddress', kind: 'handled', scopes: SERVER_ONLY },
  { name: 'ServerName', kind: 'handled', scopes: SERVER_AND_VHOST },
  { name: 'ProxyOptions', kind: 'handled' },
  { name: 'ProxySourceAddress', kind: 'handled' },
  { name: 'ProxyTimeoutLinger', kind: 'handled' },
  { name: 'PassivePorts', kind: 'handled' },
  { name: 'MasqueradeAddress', kind: 'handled' },
  { name: 'AllowForeignAddress', kind: 'handled' },
  { name: 'TimeoutLogin', kind: 'handled' },
  { name: 'TimeoutIdle', kind: 'handled' },
  { name: 'TimeoutNoTransfer', kind: 'handled' },
  { name: 'TimeoutStalled', kind: 'handled' },
  { name: 'MaxLoginAttempts', kind: 'handled' },
  { name: 'TransferRate', kind: 'handled' },
  { name: 'AuthUserFile', kind: 'handled' },
  { name: 'AuthGroupFile', kind: 'handled' },
  { name: 'ProxyForwardMethod', kind: 'handled' },
  { name: 'ProxyForwardTo', kind: 'handled' },
  // These two belong inside <Class>, which import.ts reads itself; anywhere else they are an error.
  { name: 'ProxyForwardEnabled', kind: 'handled' },
  { name: 'From', kind: 'handled' },
  // mod_tls's cache directives: the shared TLS caches (tls-cache-directives.ts).
  { name: 'TLSSessionCache', kind: 'handled', scopes: SERVER_ONLY },
  { name: 'TLSStaplingCache', kind: 'handled', scopes: SERVER_ONLY },
  { name: 'TLSStapling', kind: 'handled' },
  { name: 'TLSStaplingOptions', kind: 'handled' },
  { name: 'TLSStaplingResponder', kind: 'handled' },
  { name: 'TLSStaplingTimeout', kind: 'handled' },
  // Process-wide in ftpx (log.traceFile, log.traces), wherever they are written.
  { name: 'TraceLog', kind: 'handled' },
  { name: 'Trace', kind: 'handled' },
  // log.access: one line per session in the LogFormat (see import.ts).
  { name: 'LogFormat', kind: 'handled' },
  { name: 'ExtendedLog', kind: 'handled' },
  ...[...SFTP_LISTENER_DIRECTIVES, ...SFTP_POOL_DIRECTIVES].map(
    (name): DirectiveSpec => ({ name, kind: 'handled' }),
  ),
];

const NOT_YET = 'not applied by ftpx yet';
const NO_FILES = 'ftpx serves no files itself; the backends do';
const NO_AUTH = 'ftpx does not authenticate users itself; the backends do';
const NO_CONTROLS = 'ftpx has no ftpdctl controls';
const OWN_LOG = 'ftpx logs only to ProxyLog (or standard error)';
const TLS_NOT_YET = 'not applied by ftpx yet';

/** ProFTPD core and common module directives that mean nothing (or nothing yet) for ftpx. */
const IGNORED: Array<[string[], string]> = [
  [['User', 'Group'], 'ftpx does not switch user or group; run it under the account you want'],
  [['ServerType'], 'ftpx always runs as a standalone daemon'],
  [['LoadModule', 'ModulePath', 'ModuleControlsACLs'], 'ftpx has no loadable modules'],
  [['DefaultServer'], 'ftpx has no default server: each listener has its own address and port'],
  [
    [
      'DefaultRoot',
      'Umask',
      'AllowOverwrite',
      'AllowStoreRestart',
      'ShowSymlinks',
      'DisplayLogin',
      'DisplayChdir',
      'ListOptions',
      'QuotaEngine',
      'Ratios',
    ],
    NO_FILES,
  ],
  [
    [
      'RequireValidShell',
      'AuthOrder',
      'AuthPAM',
      'AuthPAMConfig',
      'UseFtpUsers',
      'RootLogin',
      'PersistentPasswd',
      'UseLastlog',
    ],
    NO_AUTH,
  ],
  [['MaxInstances', 'MaxClients', 'MaxClientsPerHost', 'MaxClientsPerUser', 'MaxHostsPerUser'], NOT_YET],
  [['DenyFilter', 'TimeoutSession'], NOT_YET],
  [['ServerIdent', 'DeferWelcome', 'MultilineRFC2228'], NOT_YET],
  [['UseIPv6'], 'ftpx listens on the addresses given, IPv4 or IPv6'],
  [['IdentLookups', 'UseReverseDNS'], 'ftpx does no ident or reverse DNS lookups'],
  [['PidFile'], 'ftpx writes no PID file'],
  [['ScoreboardFile'], 'ftpx keeps no scoreboard'],
  [['SystemLog', 'WtmpLog', 'AllowLogSymlinks', 'ServerLog'], OWN_LOG],
  [['DelayEngine'], 'ftpx has no login delay (mod_delay)'],
  [
    [
      'ControlsEngine',
      'ControlsACLs',
      'ControlsMaxClients',
      'ControlsLog',
      'ControlsInterval',
      'ControlsSocket',
      'AdminControlsEngine',
    ],
    NO_CONTROLS,
  ],
  [['TLSLog', 'TLSRenegotiate', 'TLSCACertificatePath'], TLS_NOT_YET],
  [['ServerAdmin', 'SocketBindTight'], NOT_YET],
  ...SFTP_IGNORED,
];

function buildTable(): Map<string, DirectiveSpec> {
  const table = new Map<string, DirectiveSpec>();
  const add = (spec: DirectiveSpec) => {
    const key = spec.name.toLowerCase();
    if (table.has(key)) throw new Error(`directive ${spec.name} is listed twice`);
    table.set(key, spec);
  };
  // ProxyTLS* and mod_tls's own (tls-directives.ts); ProxySFTP* and mod_sftp's are in HANDLED.
  HANDLED.forEach(add);
  TLS_DIRECTIVE_SPECS.forEach(add);
  for (const [names, reason] of IGNORED) {
    for (const name of names) add({ name, kind: 'ignored', reason });
  }
  return table;
}

/** Every directive ftpx knows, keyed by its lower-case name. */
export const DIRECTIVES: ReadonlyMap<string, DirectiveSpec> = buildTable();

export function findDirective(name: string): DirectiveSpec | undefined {
  return DIRECTIVES.get(name.toLowerCase());
}

/** Sections ftpx reads. */
export const SUPPORTED_SECTIONS = ['IfModule', 'Global', 'VirtualHost', 'Limit', 'Class'] as const;

/** ProFTPD sections ftpx does not read; an error, since skipping them could drop access rules. */
export const UNSUPPORTED_SECTIONS = [
  'Anonymous',
  'Directory',
  'IfDefine',
  'IfClass',
  'IfUser',
  'IfGroup',
  'IfAuthenticated',
  'IfVersion',
] as const;

export function canonicalSectionName(name: string): string | undefined {
  const lower = name.toLowerCase();
  return [...SUPPORTED_SECTIONS, ...UNSUPPORTED_SECTIONS].find((known) => known.toLowerCase() === lower);
}
