import type { ForwardMethod } from '../../forward/forward-methods.js';
import type { ForwardToRule } from '../../forward/forward-to.js';
import type { ConfigIssue } from '../config-error.js';
import type { CONNECT_POLICIES } from '../schema.js';
import type { SessionCacheDirective } from './directives/tls-cache.js';
import type { Location, SectionNode } from './lexer.js';

/**
 * What the walk over a proftpd.conf collects before the native configuration is built: one Scope per
 * server (the main server, `<Global>`, each `<VirtualHost>`), the `<Class>` sections, and the problems
 * found, each with its file and line.
 */

/** Where a directive sits: the main server ("server config"), a `<Global>` section or a `<VirtualHost>`. */
export type ScopeKind = 'server' | 'global' | 'vhost';

export type ConnectPolicy = (typeof CONNECT_POLICIES)[number];

export interface Setting<T> {
  value: T;
  loc: Location;
  /** The directive name as written. */
  name: string;
}

export interface Settings {
  ProxyEngine?: Setting<boolean>;
  ProxyRole?: Setting<'reverse' | 'forward'>;
  ProxyForwardMethod?: Setting<ForwardMethod>;
  ProxyForwardTo?: Setting<ForwardToRule>;
  ProxyReverseConnectPolicy?: Setting<ConnectPolicy>;
  ProxyRetryCount?: Setting<number>;
  /** Milliseconds. */
  ProxyTimeoutConnect?: Setting<number>;
  ProxyTables?: Setting<string>;
  /** null for `ProxyLog none`. */
  ProxyLog?: Setting<string | null>;
  /** null for `TransferLog none`. */
  TransferLog?: Setting<string | null>;
  TraceLog?: Setting<string>;
  /** `Trace channel:level ...`, every Trace directive of the scope merged. */
  Trace?: Setting<Record<string, number>>;
  /** `LogFormat name "format"`, every one of the scope. */
  LogFormat?: Setting<Record<string, string>>;
  /** `ExtendedLog path [classes [format]]`, every one of the scope, in order. */
  ExtendedLog?: Setting<{ file: string; format: string; classes: string; loc: Location }[]>;
  ProxyDatastore?: Setting<string>;
  ProxyDataTransferPolicy?: Setting<string>;
  ProxyDirectoryListPolicy?: Setting<{ policy: 'client' | 'LIST'; useSlink: boolean }>;
  Port?: Setting<number>;
  DefaultAddress?: Setting<string[]>;
  ServerName?: Setting<string>;
  /** Every ServerAlias name of the scope, in order: HOST names for its pool. */
  ServerAlias?: Setting<string[]>;
  /** ProxyOptions AllowForeignAddress / IgnoreForeignAddress. */
  ForeignDataAddress?: Setting<'allow' | 'ignore'>;
  ShowFeatures?: Setting<boolean>;
  DirectDataTransfers?: Setting<boolean>;
  ProxyAuth?: Setting<boolean>;
  AuthUserFile?: Setting<string>;
  AuthGroupFile?: Setting<string>;
  /** ProxyOptions IgnoreConfigPerms. */
  IgnoreConfigPerms?: Setting<boolean>;
  /** ProxyOptions UseProxyProtocol*. */
  SendProxyProtocol?: Setting<'v1' | 'v2' | 'v2-tlvs'>;
  ProxySourceAddress?: Setting<string>;
  /** Milliseconds. */
  ProxyTimeoutLinger?: Setting<number>;
  PassivePorts?: Setting<{ min: number; max: number }>;
  MasqueradeAddress?: Setting<string>;
  /** on/off, or the name of a `<Class>` whose networks PORT/EPRT may name. */
  AllowForeignAddress?: Setting<boolean | { className: string }>;
  /** Milliseconds; 0 turns the timer off. */
  TimeoutLogin?: Setting<number>;
  TimeoutIdle?: Setting<number>;
  TimeoutNoTransfer?: Setting<number>;
  TimeoutStalled?: Setting<number>;
  MaxLoginAttempts?: Setting<number>;
  /** Connection limits: the limit and its message, null for none. */
  MaxClients?: Setting<ConnectionLimitSetting | null>;
  /** Every MaxClientsPerClass line of the scope, in order (max null for none). */
  MaxClientsPerClass?: Setting<ClassLimitSetting[]>;
  MaxClientsPerHost?: Setting<ConnectionLimitSetting | null>;
  MaxClientsPerUser?: Setting<ConnectionLimitSetting | null>;
  MaxConnectionsPerHost?: Setting<ConnectionLimitSetting | null>;
  MaxHostsPerUser?: Setting<ConnectionLimitSetting | null>;
  MaxInstances?: Setting<number>;
  TCPBackLog?: Setting<number>;
  BanEngine?: Setting<boolean>;
  BanMessage?: Setting<string>;
  /** Every BanOnEvent line of the scope, in order. */
  BanOnEvent?: Setting<BanRuleSetting[]>;
  TransferRate?: Setting<
    Array<{
      commands: string[];
      kibPerSecond: number;
      freeBytes: number;
      users?: string[];
      groups?: string[];
      classes?: string[];
    }>
  >;
  // The shared TLS caches (one configuration for the whole process).
  TLSSessionCache?: Setting<SessionCacheDirective>;
  TLSStaplingCache?: Setting<{ enabled: boolean; size?: number }>;
  TLSStapling?: Setting<boolean>;
  TLSStaplingOptions?: Setting<{ nonce?: false; fakeTryLater?: false }>;
  TLSStaplingResponder?: Setting<string>;
  /** Milliseconds. */
  TLSStaplingTimeout?: Setting<number>;
}

/** The value type of one setting. */
export type SettingValue<K extends keyof Settings> = NonNullable<Settings[K]>['value'];

export interface ConnectionLimitSetting {
  max: number;
  message?: string;
}

/** `MaxClientsPerClass class max|none [message]`, with its line (the class is looked up at build). */
export interface ClassLimitSetting {
  className: string;
  limit: ConnectionLimitSetting | null;
  loc: Location;
}

export interface BanRuleSetting {
  event: string;
  count: number;
  window: string;
  duration: string;
  message?: string;
}

export interface LimitSetting {
  commands: string[];
  allowUsers: string[];
  denyUsers: string[];
  allowGroups?: string[];
  denyGroups?: string[];
  allowClasses?: string[];
  denyClasses?: string[];
  allowFrom: string[];
  denyFrom: string[];
  otherwise?: 'allow' | 'deny';
  order: 'allow,deny' | 'deny,allow';
}

/** A `<Class>` section: its name, `From` networks and ProxyForwardEnabled. */
export interface ClassSetting {
  name: string;
  from: string[];
  forwardEnabled?: boolean;
  loc: Location;
}

export interface Backend {
  url: string;
  loc: Location;
  name: string;
}

/** One TLS directive line as read, kept until the server's settings are put together. */
export interface RawDirective {
  args: string[];
  loc: Location;
  /** As written. */
  name: string;
}

/** One SFTP setting: a listener or pool field's value and the directive behind it. */
export interface SftpSetting {
  value: unknown;
  loc: Location;
  name: string;
}

/** The SFTP settings of one scope: listener fields and pool fields, each with its directive. */
export interface SftpScope {
  listener: Map<string, SftpSetting>;
  pool: Map<string, SftpSetting>;
}

const newSftpScope = (): SftpScope => ({ listener: new Map(), pool: new Map() });

/** An `<IfClass>`, `<IfUser>` or `<IfGroup>` section of a server (mod_ifsession): its condition and its pool directives. */
export interface Conditional {
  condition: 'class' | 'users' | 'groups';
  /** The names (any of them matches); for a class, one name, `!name` for "not that class". */
  names: string[];
  /** `<IfClass proxied-clients>`, as written. */
  tag: string;
  loc: Location;
  /** The directives inside, read as a scope of their own. */
  scope: Scope;
}

export interface Scope {
  kind: ScopeKind;
  /** mod_ifsession sections inside this server, in order. */
  conditionals: Conditional[];
  /** The `<VirtualHost>` or `<Global>` section; absent for the main server. */
  section?: SectionNode;
  settings: Settings;
  backends: Backend[];
  /** Whether any ProxyReverseServers line appeared, even one whose URLs were all refused. */
  sawBackends: boolean;
  /** Whether a ProxyEngine line appeared, even one with a bad value (so no follow-on errors). */
  sawEngine: boolean;
  /** `<Limit>` sections, in order. */
  limits: Setting<LimitSetting>[];
  /** The first line of each single-valued directive seen in this scope, valid or not. */
  seen: Map<string, Location>;
  /** SFTPEngine, SFTP* and ProxySFTP* settings. */
  sftp: SftpScope;
  /** mod_tls and ProxyTLS* lines, by canonical name (see build-tls.ts). */
  tls: Map<string, RawDirective>;
}

export const newScope = (kind: ScopeKind, section?: SectionNode): Scope => ({
  kind,
  conditionals: [],
  ...(section ? { section } : {}),
  settings: {},
  backends: [],
  sawBackends: false,
  sawEngine: false,
  limits: [],
  seen: new Map(),
  sftp: newSftpScope(),
  tls: new Map(),
});

export function describeScope(scope: Scope): string {
  if (scope.kind === 'server') return 'the main server';
  if (scope.kind === 'global') return '<Global>';
  return `<VirtualHost ${scope.section?.args.join(' ') ?? ''}>`;
}

/** Where a value of the built native configuration came from, for messages. */
export interface Origin {
  file: string;
  line?: number;
  key?: string;
}

export const at = (loc: Location): string => `${loc.file}:${loc.line}`;

export const originOf = (setting: { loc: Location; name: string }): Origin => ({
  ...setting.loc,
  key: setting.name,
});

/** The errors and warnings of one import, in the order found. */
export class Issues {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  error(where: Location | Origin, key: string | undefined, message: string): void {
    this.errors.push({ ...where, ...(key === undefined ? {} : { key }), message });
  }

  warn(where: Location | Origin, key: string | undefined, message: string): void {
    this.warnings.push({ ...where, ...(key === undefined ? {} : { key }), message });
  }
}

/** Everything read from the tree: the servers' scopes and the `<Class>` sections. */
export class ImportState {
  readonly issues = new Issues();
  readonly main = newScope('server');
  readonly global = newScope('global');
  readonly vhosts: Scope[] = [];
  readonly classes: ClassSetting[] = [];

  constructor(readonly file: string) {}
}
