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
];

const NOT_YET = 'not applied by ftpx yet';
const NO_FILES = 'ftpx serves no files itself; the backends do';
const NO_AUTH = 'ftpx does not authenticate users itself; the backends do';
const NO_CONTROLS = 'ftpx has no ftpdctl controls';
const OWN_LOG = 'ftpx logs only to ProxyLog (or standard error)';
const TLS_NOT_YET = 'not applied by ftpx yet';

/** mod_proxy directives that ftpx does not implement. */
const MOD_PROXY_OTHERS: DirectiveSpec[] = [
  ...['ProxyForwardEnabled', 'ProxyForwardMethod', 'ProxyForwardTo'].map(
    (name): DirectiveSpec => ({ name, kind: 'ignored', reason: 'applies to ProxyRole forward only' }),
  ),
  ...[
    'ProxySFTPCiphers',
    'ProxySFTPCompression',
    'ProxySFTPDigests',
    'ProxySFTPHostKey',
    'ProxySFTPKeyExchanges',
    'ProxySFTPOptions',
    'ProxySFTPPassPhraseProvider',
    'ProxySFTPServerAlive',
    'ProxySFTPServerMatch',
    'ProxySFTPVerifyServer',
  ].map(
    (name): DirectiveSpec => ({
      name,
      kind: 'ignored',
      reason: 'SFTP backends are not supported by ftpx yet',
    }),
  ),
];

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
  [['SystemLog', 'WtmpLog', 'ExtendedLog', 'LogFormat', 'AllowLogSymlinks', 'ServerLog'], OWN_LOG],
  [['TraceLog', 'Trace'], 'ftpx has no ProFTPD trace logging (use log.level debug)'],
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
  [['TLSLog', 'TLSRenegotiate', 'TLSCACertificatePath', 'TLSSessionCache', 'TLSStaplingCache'], TLS_NOT_YET],
  [['ServerAdmin', 'SocketBindTight'], NOT_YET],
];

function buildTable(): Map<string, DirectiveSpec> {
  const table = new Map<string, DirectiveSpec>();
  const add = (spec: DirectiveSpec) => {
    const key = spec.name.toLowerCase();
    if (table.has(key)) throw new Error(`directive ${spec.name} is listed twice`);
    table.set(key, spec);
  };
  HANDLED.forEach(add);
  TLS_DIRECTIVE_SPECS.forEach(add);
  MOD_PROXY_OTHERS.forEach(add);
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
export const SUPPORTED_SECTIONS = ['IfModule', 'Global', 'VirtualHost', 'Limit'] as const;

/** ProFTPD sections ftpx does not read; an error, since skipping them could drop access rules. */
export const UNSUPPORTED_SECTIONS = [
  'Anonymous',
  'Class',
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
