import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { parseCidr } from '../../../functions/shared/net/cidr.js';
import { FORWARD_METHODS, type ForwardMethod, findForwardMethod } from '../../forward/forward-methods.js';
import { type ForwardToRule, parseForwardToDirective } from '../../forward/forward-to.js';
import { parseLogFormat } from '../../log/access-log.js';
import { parseBackendSource } from '../../reverse/backend-source.js';
import type { ConfigIssue } from '../config-error.js';
import { CONNECT_POLICIES, type ConfigInput, DATA_TRANSFER_POLICIES } from '../schema.js';
import { closestMatch } from '../suggest.js';
import type { KeyPath } from '../zod-issues.js';
import {
  canonicalSectionName,
  DIRECTIVES,
  type DirectiveSpec,
  findDirective,
  type ScopeKind,
  SUPPORTED_SECTIONS,
  UNSUPPORTED_SECTIONS,
} from './directives.js';
import type { ConfigNode, DirectiveNode, Location, SectionNode } from './lexer.js';
import { newSftpScope, readSftpDirective, type SftpScope, sftpBlock } from './sftp-directives.js';
import {
  type Parsed,
  parseTlsSessionCache,
  parseTlsStapling,
  parseTlsStaplingCache,
  parseTlsStaplingOptions,
  parseTlsStaplingResponder,
  parseTlsStaplingTimeout,
  type SessionCacheDirective,
} from './tls-cache-directives.js';
import {
  importBackendTls,
  importFrontendTls,
  isTlsDirective,
  type RawDirective,
  type TlsImport,
} from './tls-directives.js';
import { parseBoolean, parseProftpdDuration, parseWholeNumber } from './values.js';

type ConnectPolicy = (typeof CONNECT_POLICIES)[number];

/** All of mod_proxy's connect policies (matched case-insensitively, as mod_proxy does). */
export const MOD_PROXY_CONNECT_POLICIES = [
  'Random',
  'RoundRobin',
  'Shuffle',
  'LeastConns',
  'LeastResponseTime',
  'PerUser',
  'PerGroup',
  'PerHost',
] as const;

interface Setting<T> {
  value: T;
  loc: Location;
  /** The directive name as written. */
  name: string;
}

interface Settings {
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
  AllowForeignAddress?: Setting<boolean>;
  /** Milliseconds; 0 turns the timer off. */
  TimeoutLogin?: Setting<number>;
  TimeoutIdle?: Setting<number>;
  TimeoutNoTransfer?: Setting<number>;
  TimeoutStalled?: Setting<number>;
  MaxLoginAttempts?: Setting<number>;
  TransferRate?: Setting<Array<{ commands: string[]; kibPerSecond: number; freeBytes: number }>>;
  // The shared TLS caches (one configuration for the whole process).
  TLSSessionCache?: Setting<SessionCacheDirective>;
  TLSStaplingCache?: Setting<{ enabled: boolean; size?: number }>;
  TLSStapling?: Setting<boolean>;
  TLSStaplingOptions?: Setting<{ nonce?: false; fakeTryLater?: false }>;
  TLSStaplingResponder?: Setting<string>;
  /** Milliseconds. */
  TLSStaplingTimeout?: Setting<number>;
}

const TLS_CACHE_PARSERS = {
  TLSSessionCache: parseTlsSessionCache,
  TLSStaplingCache: parseTlsStaplingCache,
  TLSStapling: parseTlsStapling,
  TLSStaplingOptions: parseTlsStaplingOptions,
  TLSStaplingResponder: parseTlsStaplingResponder,
  TLSStaplingTimeout: parseTlsStaplingTimeout,
} as const;
type TlsCacheDirective = keyof typeof TLS_CACHE_PARSERS;

/** ProxyOptions that ftpx maps, and the ones it refuses with a reason. */
const PROXY_OPTIONS_NOT_YET = new Set<string>();
/** ProxyOptions that switch a pool setting on. */
const PROXY_OPTION_FLAGS: Record<
  string,
  'ShowFeatures' | 'DirectDataTransfers' | 'IgnoreConfigPerms' | 'ProxyAuth'
> = {
  ShowFeatures: 'ShowFeatures',
  /** The proxy checks USER/PASS itself (proxyAuth); needed for backend URLs with a password. */
  UseReverseProxyAuth: 'ProxyAuth',
  UseDirectDataTransfers: 'DirectDataTransfers',
  /** `file:` backend lists in world-writable directories are accepted. */
  IgnoreConfigPerms: 'IgnoreConfigPerms',
};
/** The PROXY protocol header sent to backends; UseProxyProtocol is mod_proxy's alias for V1. */
const PROXY_PROTOCOL_OPTIONS: Record<string, 'v1' | 'v2' | 'v2-tlvs'> = {
  UseProxyProtocol: 'v1',
  UseProxyProtocolV1: 'v1',
  UseProxyProtocolV2: 'v2',
  UseProxyProtocolV2TLVs: 'v2-tlvs',
};

interface LimitSetting {
  commands: string[];
  allowUsers: string[];
  denyUsers: string[];
  allowFrom: string[];
  denyFrom: string[];
  otherwise?: 'allow' | 'deny';
  order: 'allow,deny' | 'deny,allow';
}

/** A `<Class>` section: its name, `From` networks and ProxyForwardEnabled. */
interface ClassSetting {
  name: string;
  from: string[];
  forwardEnabled?: boolean;
  loc: Location;
}

interface Backend {
  url: string;
  loc: Location;
  name: string;
}

interface Scope {
  kind: ScopeKind;
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
  /** mod_tls and ProxyTLS* lines, by canonical name (see tls-directives.ts). */
  tls: Map<string, RawDirective>;
}

/** Where a value of the built native configuration came from, for messages. */
export interface Origin {
  file: string;
  line?: number;
  key?: string;
}

interface PoolOrigin {
  server: Origin;
  fields: Record<string, Origin>;
  backends: Origin[];
  /** The directive behind each field of the pool's `sftp` block. */
  sftp?: Record<string, Origin>;
}

export interface ImportResult {
  /** The native configuration (before validation); meaningful only when `errors` is empty. */
  input: ConfigInput;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** The directive behind a path of the native configuration, e.g. `['pools', 0, 'retryCount']`. */
  locate(path: KeyPath): Origin;
}

const newScope = (kind: ScopeKind, section?: SectionNode): Scope => ({
  kind,
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

function describeScope(scope: Scope): string {
  if (scope.kind === 'server') return 'the main server';
  if (scope.kind === 'global') return '<Global>';
  return `<VirtualHost ${scope.section?.args.join(' ') ?? ''}>`;
}

const SCOPE_NAMES: Record<ScopeKind, string> = {
  server: 'the server config',
  global: '<Global>',
  vhost: '<VirtualHost>',
};

const at = (loc: Location): string => `${loc.file}:${loc.line}`;

const originOf = (setting: { loc: Location; name: string }): Origin => ({
  ...setting.loc,
  key: setting.name,
});

/** Maps the tree read from a proftpd.conf onto ftpx's native configuration. */
class Importer {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  private readonly main = newScope('server');
  private readonly global = newScope('global');
  private readonly vhosts: Scope[] = [];
  private readonly classes: ClassSetting[] = [];

  constructor(private readonly file: string) {}

  private error(where: Location | Origin, key: string | undefined, message: string): void {
    this.errors.push({ ...where, ...(key === undefined ? {} : { key }), message });
  }

  private warn(where: Location | Origin, key: string | undefined, message: string): void {
    this.warnings.push({ ...where, ...(key === undefined ? {} : { key }), message });
  }

  run(nodes: ConfigNode[]): void {
    this.walk(nodes, this.main);
  }

  private walk(nodes: ConfigNode[], scope: Scope): void {
    for (const node of nodes) {
      if (node.type === 'directive') this.directive(node, scope);
      else this.section(node, scope);
    }
  }

  private section(node: SectionNode, scope: Scope): void {
    const name = canonicalSectionName(node.name);
    const tag = `<${name ?? node.name}>`;
    if (name === 'IfModule') {
      // Every module counts as present: `<IfModule mod_x.c>` is read, `<IfModule !mod_x.c>` is skipped.
      if (node.args.length !== 1)
        this.error(node.loc, tag, `takes exactly one module name, got ${node.args.length}`);
      else if (!node.skipped) this.walk(node.children, scope);
      return;
    }
    if (name === 'Global' || name === 'VirtualHost') {
      if (scope.kind !== 'server') {
        this.error(node.loc, tag, `is allowed only at the top level, not inside ${describeScope(scope)}`);
        return;
      }
      if (name === 'Global') {
        if (node.args.length > 0) this.error(node.loc, tag, 'takes no arguments');
        this.walk(node.children, this.global);
        return;
      }
      if (node.args.length === 0) {
        this.error(node.loc, tag, 'needs at least one address');
        return;
      }
      const vhost = newScope('vhost', node);
      this.vhosts.push(vhost);
      this.walk(node.children, vhost);
      return;
    }
    if (name === 'Limit') {
      this.limit(node, scope);
      return;
    }
    if (name === 'Class') {
      this.classSection(node, scope);
      return;
    }
    if (name !== undefined) {
      const why =
        name === 'Directory' || name === 'Anonymous' ? ': ftpx would not enforce the rules inside it' : '';
      this.error(node.loc, tag, `sections are not supported by ftpx yet${why}`);
      return;
    }
    const suggestion = closestMatch(node.name, [...SUPPORTED_SECTIONS, ...UNSUPPORTED_SECTIONS]);
    this.error(node.loc, tag, `unknown section${suggestion ? ` (did you mean <${suggestion}>?)` : ''}`);
  }

  private directive(node: DirectiveNode, scope: Scope): void {
    const spec = findDirective(node.name);
    if (!spec) {
      const suggestion = closestMatch(
        node.name,
        [...DIRECTIVES.values()].map((known) => known.name),
      );
      this.error(
        node.loc,
        node.name,
        `unknown directive${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
      );
      return;
    }
    if (spec.scopes && !spec.scopes.includes(scope.kind)) {
      const allowed = spec.scopes.map((kind) => SCOPE_NAMES[kind]).join(' and ');
      this.error(node.loc, node.name, `allowed only in ${allowed}, not in ${describeScope(scope)}`);
      return;
    }
    if (spec.kind === 'ignored') {
      this.warn(node.loc, node.name, `ignored: ${spec.reason ?? 'not applied by ftpx'}`);
      return;
    }
    if (spec.kind === 'unsupported') {
      this.error(node.loc, node.name, spec.reason ?? 'not supported by ftpx yet');
      return;
    }
    this.handle(spec, node, scope);
  }

  /**
   * Records a valid single-valued setting. A second line for the same directive in the same scope is an
   * error (even when the first had a bad value): ProFTPD is not consistent about which one would win.
   */
  private set<K extends keyof Settings>(
    scope: Scope,
    key: K,
    node: DirectiveNode,
    value: NonNullable<Settings[K]>['value'],
  ) {
    const first = scope.seen.get(key);
    if (first && first !== node.loc) {
      this.error(node.loc, node.name, `is set twice in ${describeScope(scope)} (first at ${at(first)})`);
      return;
    }
    scope.settings[key] = { value, loc: node.loc, name: node.name } as Settings[K];
  }

  private oneArgument(node: DirectiveNode): string | undefined {
    if (node.args.length !== 1) {
      this.error(node.loc, node.name, `takes exactly one argument, got ${node.args.length}`);
      return undefined;
    }
    return node.args[0];
  }

  private handle(spec: DirectiveSpec, node: DirectiveNode, scope: Scope): void {
    const fail = (message: string) => this.error(node.loc, node.name, message);
    if (isTlsDirective(spec.name)) {
      const first = scope.tls.get(spec.name);
      if (first) fail(`is set twice in ${describeScope(scope)} (first at ${at(first.loc)})`);
      else scope.tls.set(spec.name, { args: [...node.args], loc: node.loc, name: node.name });
      return;
    }
    if (!scope.seen.has(spec.name)) scope.seen.set(spec.name, node.loc);
    switch (spec.name) {
      case 'ProxyEngine': {
        scope.sawEngine = true;
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const value = parseBoolean(arg);
        if (value === undefined) fail(`expected on or off, got "${arg}"`);
        else this.set(scope, 'ProxyEngine', node, value);
        return;
      }
      case 'ProxyRole': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const lower = arg.toLowerCase();
        if (lower === 'reverse' || lower === 'forward') this.set(scope, 'ProxyRole', node, lower);
        else fail(`expected reverse or forward, got "${arg}"`);
        return;
      }
      case 'ProxyForwardMethod': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const method = findForwardMethod(arg);
        if (method === undefined) fail(`expected one of ${FORWARD_METHODS.join(', ')}, got "${arg}"`);
        else this.set(scope, 'ProxyForwardMethod', node, method);
        return;
      }
      case 'ProxyForwardTo': {
        const parsed = parseForwardToDirective(node.args);
        if (!parsed.ok) fail(parsed.error);
        else this.set(scope, 'ProxyForwardTo', node, parsed.rule);
        return;
      }
      case 'ProxyForwardEnabled':
      case 'From':
        fail('is allowed only inside <Class>');
        return;
      case 'ProxyReverseServers':
        this.reverseServers(node, scope);
        return;
      case 'ProxyReverseConnectPolicy': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const policy = MOD_PROXY_CONNECT_POLICIES.find((known) => known.toLowerCase() === arg.toLowerCase());
        if (policy === undefined) {
          fail(`"${arg}" is not a connect policy (valid: ${MOD_PROXY_CONNECT_POLICIES.join(', ')})`);
        } else if (!(CONNECT_POLICIES as readonly string[]).includes(policy)) {
          fail(`${policy} is not supported by ftpx yet (supported: ${CONNECT_POLICIES.join(', ')})`);
        } else {
          this.set(scope, 'ProxyReverseConnectPolicy', node, policy as ConnectPolicy);
        }
        return;
      }
      case 'ProxyRetryCount': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const count = parseWholeNumber(arg);
        if (count === undefined || count < 1) fail(`must be a whole number of at least 1, got "${arg}"`);
        else this.set(scope, 'ProxyRetryCount', node, count);
        return;
      }
      case 'ProxyTimeoutConnect': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const ms = parseProftpdDuration(arg);
        if (ms === undefined)
          fail(`"${arg}" is not a duration (use e.g. 5, 5sec, 500ms, 2min, 1hr or hh:mm:ss)`);
        else if (ms === 0) fail('must be longer than zero');
        else this.set(scope, 'ProxyTimeoutConnect', node, ms);
        return;
      }
      case 'ProxyTables': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        if (!isAbsolute(arg)) fail(`must be an absolute path, got "${arg}"`);
        else this.set(scope, 'ProxyTables', node, arg);
        return;
      }
      case 'ProxyLog':
      case 'TransferLog': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        if (arg.toLowerCase() === 'none') this.set(scope, spec.name, node, null);
        else if (!isAbsolute(arg)) fail(`must be an absolute path or none, got "${arg}"`);
        else this.set(scope, spec.name, node, arg);
        return;
      }
      case 'TraceLog': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        if (!isAbsolute(arg)) fail(`must be an absolute path, got "${arg}"`);
        else this.set(scope, 'TraceLog', node, arg);
        return;
      }
      case 'Trace': {
        // `Trace proxy:20 proxy.ftp.ctrl:1-20`: a range keeps its upper end (what gets written).
        const channels: Record<string, number> = { ...scope.settings.Trace?.value };
        for (const arg of node.args) {
          const match = /^([A-Za-z0-9_.*-]+):(?:\d+-)?(\d+)$/.exec(arg);
          const level = Number(match?.[2]);
          if (!match?.[1] || level > 20) {
            fail(`expects CHANNEL:LEVEL pairs (level 0 to 20), got "${arg}"`);
            return;
          }
          channels[match[1].toLowerCase() === 'default' ? '*' : match[1].toLowerCase()] = level;
        }
        scope.settings.Trace = {
          value: channels,
          loc: scope.settings.Trace?.loc ?? node.loc,
          name: node.name,
        };
        return;
      }
      case 'LogFormat': {
        const [name, format, ...rest] = node.args;
        if (name === undefined || format === undefined || rest.length > 0) {
          fail('expects a name and a format string');
          return;
        }
        const formats = { ...scope.settings.LogFormat?.value, [name]: format };
        scope.settings.LogFormat = {
          value: formats,
          loc: scope.settings.LogFormat?.loc ?? node.loc,
          name: node.name,
        };
        return;
      }
      case 'ExtendedLog': {
        const [file, classes = 'ALL', format = 'default', ...rest] = node.args;
        if (file === undefined || rest.length > 0) {
          fail('expects a path, then optionally command classes and a LogFormat name');
          return;
        }
        if (!isAbsolute(file)) {
          fail(`must be an absolute path, got "${file}"`);
          return;
        }
        const logs = [...(scope.settings.ExtendedLog?.value ?? []), { file, format, classes, loc: node.loc }];
        scope.settings.ExtendedLog = {
          value: logs,
          loc: scope.settings.ExtendedLog?.loc ?? node.loc,
          name: node.name,
        };
        return;
      }
      case 'ProxyDatastore': {
        const type = node.args[0]?.toLowerCase();
        if (type === 'sqlite' && node.args.length === 1) {
          this.set(scope, 'ProxyDatastore', node, 'SQLite');
          this.warn(node.loc, node.name, 'ignored: ftpx keeps its state in its own store (see ProxyTables)');
        } else if (type === 'redis') fail('Redis is not supported by ftpx yet');
        else fail(`expected SQLite or Redis <prefix>, got "${node.args.join(' ')}"`);
        return;
      }
      case 'ProxyDataTransferPolicy': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        // PASV, EPSV, PORT and EPRT are command names (upper case); the others words, matched case-insensitively.
        const policy = DATA_TRANSFER_POLICIES.find((known) => known.toLowerCase() === arg.toLowerCase());
        if (policy === undefined) fail(`expected one of ${DATA_TRANSFER_POLICIES.join(', ')}, got "${arg}"`);
        else this.set(scope, 'ProxyDataTransferPolicy', node, policy);
        return;
      }
      case 'ProxyDirectoryListPolicy': {
        const [policy, ...options] = node.args;
        const lower = policy?.toLowerCase();
        if (lower !== 'client' && lower !== 'list') {
          fail(`expected client or LIST [UseSlink], got "${node.args.join(' ')}"`);
          return;
        }
        const unknown = options.filter((option) => option.toLowerCase() !== 'useslink');
        if (unknown.length > 0) fail(`unknown option(s) ${unknown.join(', ')} (known: UseSlink)`);
        else if (lower === 'client' && options.length > 0) fail('UseSlink applies to the LIST policy only');
        else
          this.set(scope, 'ProxyDirectoryListPolicy', node, {
            policy: lower === 'list' ? 'LIST' : 'client',
            useSlink: options.length > 0,
          });
        return;
      }
      case 'ProxyOptions':
        this.proxyOptions(node, scope);
        return;
      case 'TLSSessionCache':
      case 'TLSStaplingCache':
      case 'TLSStapling':
      case 'TLSStaplingOptions':
      case 'TLSStaplingResponder':
      case 'TLSStaplingTimeout': {
        const parsed = (TLS_CACHE_PARSERS[spec.name] as (args: readonly string[]) => Parsed<unknown>)(
          node.args,
        );
        if (!parsed.ok) {
          fail(parsed.error);
          return;
        }
        for (const warning of parsed.warnings) this.warn(node.loc, node.name, warning);
        this.set(scope, spec.name, node, parsed.value as never);
        return;
      }
      case 'AuthUserFile':
      case 'AuthGroupFile': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        if (!isAbsolute(arg)) fail(`must be an absolute path, got "${arg}"`);
        else this.set(scope, spec.name, node, arg);
        return;
      }
      case 'ProxySourceAddress': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        if (isIP(arg) === 0)
          fail(`must be an IP address (interface names are not supported by ftpx), got "${arg}"`);
        else this.set(scope, 'ProxySourceAddress', node, arg);
        return;
      }
      case 'ProxyTimeoutLinger':
      case 'TimeoutLogin':
      case 'TimeoutIdle':
      case 'TimeoutNoTransfer':
      case 'TimeoutStalled': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        // ProFTPD's "0" means no timeout, except for the linger time, where it means not to wait.
        const ms = arg === '0' ? 0 : parseProftpdDuration(arg);
        if (ms === undefined) fail(`"${arg}" is not a duration (use e.g. 30, 30sec, 5min or hh:mm:ss)`);
        else this.set(scope, spec.name, node, ms);
        return;
      }
      case 'TransferRate': {
        const [list = '', rate = '', ...rest] = node.args;
        if (node.args.length < 2) {
          fail('takes a command list and a rate, e.g. "TransferRate RETR,STOR 100:1024"');
          return;
        }
        if (rest.length > 0) {
          fail('user, group and class conditions are not supported by ftpx yet');
          return;
        }
        const commands = list.split(',').map((command) => command.trim().toUpperCase());
        const allowed = ['RETR', 'STOR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD'];
        const unknown = commands.filter((command) => !allowed.includes(command));
        const match = /^(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(rate);
        if (unknown.length > 0) fail(`cannot limit ${unknown.join(', ')} (only ${allowed.join(', ')})`);
        else if (!match || Number(match[1]) <= 0)
          fail(`"${rate}" is not a rate in KB/s (optionally :free-bytes)`);
        else {
          // Several TransferRate lines add up; the first naming a command wins, as in the native config.
          const rules = [...(scope.settings.TransferRate?.value ?? [])];
          rules.push({ commands, kibPerSecond: Number(match[1]), freeBytes: Number(match[2] ?? 0) });
          scope.settings.TransferRate = { value: rules, loc: node.loc, name: node.name };
        }
        return;
      }
      case 'MaxLoginAttempts': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const count = parseWholeNumber(arg);
        if (count === undefined || count < 1) fail(`must be a whole number of at least 1, got "${arg}"`);
        else this.set(scope, 'MaxLoginAttempts', node, count);
        return;
      }
      case 'PassivePorts': {
        if (node.args.length !== 2) {
          fail(`takes a minimum and a maximum port, got ${node.args.length} argument(s)`);
          return;
        }
        const [min, max] = node.args.map(parseWholeNumber);
        if (min === undefined || max === undefined || min < 1024 || max > 65535 || min > max) {
          fail(
            `needs two ports from 1024 to 65535, the first not above the second; got "${node.args.join(' ')}"`,
          );
        } else this.set(scope, 'PassivePorts', node, { min, max });
        return;
      }
      case 'MasqueradeAddress': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        if (isIP(arg) === 6) fail('must be an IPv4 address or a host name: PASV replies carry IPv4 only');
        else this.set(scope, 'MasqueradeAddress', node, arg);
        return;
      }
      case 'AllowForeignAddress': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const flag = parseBoolean(arg);
        if (flag === undefined) {
          fail(
            `"${arg}": naming a <Class> is not supported by ftpx yet (use on or off, or allowForeignAddress networks in YAML)`,
          );
        } else this.set(scope, 'AllowForeignAddress', node, flag);
        return;
      }
      case 'Port': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        const port = parseWholeNumber(arg);
        if (port === undefined || port > 65535) fail(`must be a port number from 0 to 65535, got "${arg}"`);
        else this.set(scope, 'Port', node, port);
        return;
      }
      case 'DefaultAddress':
        if (node.args.length === 0) fail('needs at least one address');
        else this.set(scope, 'DefaultAddress', node, [...node.args]);
        return;
      case 'ServerName': {
        const arg = this.oneArgument(node);
        if (arg === undefined) return;
        if (arg.trim() === '') fail('must not be empty');
        else this.set(scope, 'ServerName', node, arg);
        return;
      }
      default:
        if (!readSftpDirective(node, scope.sftp, fail)) fail('not supported by ftpx yet');
    }
  }

  /**
   * `<Limit CMD...>` in a server, vhost or <Global>: user and address rules for commands, applied by
   * the proxy before relaying (see edge-worker/ftp/command-limits.ts). Groups and classes are not
   * known without proxy authentication, so their rules are refused rather than ignored.
   */
  private limit(node: SectionNode, scope: Scope): void {
    const tag = '<Limit>';
    if (node.args.length === 0) {
      this.error(node.loc, tag, 'needs at least one command or command group');
      return;
    }
    const rule: LimitSetting = {
      commands: node.args.map((command) => command.toUpperCase()),
      allowUsers: [],
      denyUsers: [],
      allowFrom: [],
      denyFrom: [],
      order: 'allow,deny',
    };
    for (const child of node.children) {
      if (child.type === 'section') {
        this.error(child.loc, `<${child.name}>`, 'is not allowed inside <Limit>');
        continue;
      }
      const directive = child.name.toLowerCase();
      const args = child.args;
      const fail = (message: string) => this.error(child.loc, child.name, message);
      const names = () =>
        args
          .flatMap((arg) => arg.split(','))
          .map((name) => name.trim())
          .filter(Boolean);
      if (directive === 'allowall' || directive === 'denyall') {
        if (args.length > 0) fail('takes no arguments');
        else rule.otherwise = directive === 'allowall' ? 'allow' : 'deny';
      } else if (directive === 'allowuser' || directive === 'denyuser') {
        const users = names();
        if (users.length === 0) fail('needs at least one user name');
        else if (users.some((user) => user.startsWith('!')))
          fail('negated user names (!name) are not supported by ftpx yet');
        else (directive === 'allowuser' ? rule.allowUsers : rule.denyUsers).push(...users);
      } else if (directive === 'allow' || directive === 'deny') {
        const [from, ...hosts] = args;
        if (from?.toLowerCase() !== 'from' || hosts.length === 0) {
          fail(`expected "${child.name} from <address|network|all|none> ..."`);
          continue;
        }
        const list = directive === 'allow' ? rule.allowFrom : rule.denyFrom;
        for (const host of hosts
          .flatMap((text) => text.split(','))
          .map((text) => text.trim())
          .filter(Boolean)) {
          if (host.toLowerCase() === 'all') list.push('0.0.0.0/0', '::/0');
          else if (host.toLowerCase() === 'none') continue;
          else {
            const parsed = parseCidr(host);
            if (parsed.ok) list.push(host);
            else fail(`${parsed.error} (host names are not supported by ftpx)`);
          }
        }
      } else if (directive === 'order') {
        const order = args.join('').toLowerCase();
        if (order === 'allow,deny' || order === 'deny,allow') rule.order = order;
        else fail(`expected allow,deny or deny,allow, got "${args.join(' ')}"`);
      } else if (['allowgroup', 'denygroup', 'allowclass', 'denyclass'].includes(directive)) {
        fail('group and class rules are not supported by ftpx yet');
      } else {
        fail(
          'is not supported inside <Limit> by ftpx (AllowAll, DenyAll, AllowUser, DenyUser, Allow from, Deny from, Order)',
        );
      }
    }
    scope.limits.push({ value: rule, loc: node.loc, name: tag });
  }

  /**
   * `<Class name>`: `From` lines (addresses and CIDR networks, several per line separated by spaces or
   * commas) and `ProxyForwardEnabled on|off`. A client belongs to the first class one of whose
   * networks holds its address.
   */
  private classSection(node: SectionNode, scope: Scope): void {
    const tag = '<Class>';
    if (scope.kind !== 'server') {
      this.error(node.loc, tag, `is allowed only at the top level, not inside ${describeScope(scope)}`);
      return;
    }
    const [name] = node.args;
    if (node.args.length !== 1 || name === undefined) {
      this.error(node.loc, tag, `takes exactly one class name, got ${node.args.length}`);
      return;
    }
    const previous = this.classes.find((known) => known.name === name);
    if (previous) {
      this.error(node.loc, tag, `class "${name}" is defined twice (first at ${at(previous.loc)})`);
      return;
    }
    const entry: ClassSetting = { name, from: [], loc: node.loc };
    for (const child of node.children) {
      if (child.type === 'section') {
        this.error(child.loc, `<${child.name}>`, 'is not allowed inside <Class>');
        continue;
      }
      const fail = (message: string) => this.error(child.loc, child.name, message);
      const directive = child.name.toLowerCase();
      if (directive === 'from') {
        const items = child.args
          .flatMap((arg) => arg.split(','))
          .map((item) => item.trim())
          .filter(Boolean);
        if (items.length === 0) fail('needs at least one address or network');
        for (const item of items) {
          const parsed = parseCidr(item);
          if (parsed.ok) entry.from.push(item);
          else if (item.startsWith('!')) fail(`"${item}": negated entries are not supported by ftpx`);
          else if (/[A-Za-z*?]/.test(item) && !item.includes(':')) {
            fail(
              `"${item}": host names and patterns are not supported by ftpx (use addresses or CIDR networks)`,
            );
          } else fail(parsed.error);
        }
      } else if (directive === 'proxyforwardenabled') {
        const value = child.args.length === 1 ? parseBoolean(child.args[0] as string) : undefined;
        if (value === undefined) fail(`expected on or off, got "${child.args.join(' ')}"`);
        else if (entry.forwardEnabled !== undefined) fail(`is set twice in <Class ${name}>`);
        else entry.forwardEnabled = value;
      } else if (directive === 'satisfy') {
        fail('is not supported by ftpx: a client belongs to the first class with a matching From');
      } else {
        fail('is not supported inside <Class> by ftpx (From, ProxyForwardEnabled)');
      }
    }
    if (entry.from.length === 0 && !node.children.some((child) => child.name.toLowerCase() === 'from')) {
      this.error(node.loc, tag, `class "${name}" has no From line: it would match no client`);
    }
    this.classes.push(entry);
  }

  private proxyOptions(node: DirectiveNode, scope: Scope): void {
    if (node.args.length === 0) {
      this.error(node.loc, node.name, 'needs at least one option');
      return;
    }
    for (const option of node.args) {
      // mod_proxy compares ProxyOptions case-sensitively.
      if (option === 'AllowForeignAddress' || option === 'IgnoreForeignAddress') {
        const wanted = option === 'AllowForeignAddress' ? 'allow' : 'ignore';
        const current = scope.settings.ForeignDataAddress?.value;
        // IgnoreForeignAddress takes precedence over AllowForeignAddress (mod_proxy issue #285).
        if (current !== 'ignore') {
          scope.settings.ForeignDataAddress = { value: wanted, loc: node.loc, name: node.name };
        }
      } else if (option in PROXY_PROTOCOL_OPTIONS) {
        const version = PROXY_PROTOCOL_OPTIONS[option] as 'v1' | 'v2' | 'v2-tlvs';
        const current = scope.settings.SendProxyProtocol?.value;
        // With several, the richest wins: V2TLVs implies V2.
        const rank = { v1: 1, v2: 2, 'v2-tlvs': 3 } as const;
        if (!current || rank[version] > rank[current]) {
          scope.settings.SendProxyProtocol = { value: version, loc: node.loc, name: node.name };
        }
      } else if (option in PROXY_OPTION_FLAGS) {
        const key = PROXY_OPTION_FLAGS[option] as
          | 'ShowFeatures'
          | 'DirectDataTransfers'
          | 'IgnoreConfigPerms'
          | 'ProxyAuth';
        scope.settings[key] = { value: true, loc: node.loc, name: node.name };
      } else if (PROXY_OPTIONS_NOT_YET.has(option)) {
        this.error(node.loc, node.name, `${option} is not supported by ftpx yet`);
      } else {
        const suggestion = closestMatch(option, [
          'AllowForeignAddress',
          'IgnoreForeignAddress',
          ...Object.keys(PROXY_OPTION_FLAGS),
          ...PROXY_OPTIONS_NOT_YET,
          ...Object.keys(PROXY_PROTOCOL_OPTIONS),
        ]);
        this.error(
          node.loc,
          node.name,
          `unknown option "${option}"${suggestion ? ` (did you mean ${suggestion}? options are case-sensitive)` : ''}`,
        );
      }
    }
  }

  private reverseServers(node: DirectiveNode, scope: Scope): void {
    scope.sawBackends = true;
    if (node.args.length === 0) {
      this.error(node.loc, node.name, 'needs at least one backend URL');
      return;
    }
    for (const arg of node.args) {
      // URLs (ftp://, with +srv / +txt), and file: lists (absolute; %U per user, %g refused).
      const parsed = parseBackendSource(arg);
      if (!parsed.ok) this.error(node.loc, node.name, parsed.error);
      else scope.backends.push({ url: arg, loc: node.loc, name: node.name });
    }
  }

  /** Builds the native configuration from what was read. */
  build(): Omit<ImportResult, 'errors' | 'warnings'> {
    const pools: NonNullable<ConfigInput['pools']> = [];
    const listeners: NonNullable<ConfigInput['listeners']> = [];
    const poolOrigins: PoolOrigin[] = [];
    const listenerOrigins: Array<{
      address: Origin;
      port: Origin;
      fields: Record<string, Origin>;
      sftp?: Record<string, Origin>;
    }> = [];
    const poolNames = new Map<string, string>();
    const bound = new Map<string, string>();
    const global = this.global.settings;
    let proxies = 0;
    let unsure = 0;

    for (const scope of [this.main, ...this.vhosts]) {
      const own = scope.settings;
      const label = describeScope(scope);
      const serverLoc: Origin = scope.section
        ? { ...scope.section.loc, key: label }
        : { file: this.file, key: label };
      const port = own.Port?.value ?? 21;
      if (port === 0) continue; // `Port 0` disables a server, as in ProFTPD.
      const engine = own.ProxyEngine ?? global.ProxyEngine;
      if (!engine && (scope.sawEngine || this.global.sawEngine)) {
        unsure++; // its ProxyEngine line is already reported as an error
        continue;
      }
      if (!engine?.value) {
        const where = scope.section ? serverLoc : engine ? originOf(engine) : serverLoc;
        this.warn(where, label, 'not a proxy (ProxyEngine is not on); ftpx does not serve it');
        continue;
      }
      proxies++;
      const serverOrigin: Origin = scope.section ? serverLoc : { ...originOf(engine), key: label };

      const role = own.ProxyRole ?? global.ProxyRole;
      const forward = role?.value === 'forward';
      const forwardMethod = own.ProxyForwardMethod ?? global.ProxyForwardMethod;
      const forwardTo = own.ProxyForwardTo ?? global.ProxyForwardTo;
      const backends = forward
        ? []
        : scope.backends.length > 0 || scope.sawBackends
          ? scope.backends
          : this.global.backends;
      if (forward && (scope.sawBackends || this.global.sawBackends)) {
        const first = scope.backends[0] ?? this.global.backends[0];
        this.warn(
          first ? originOf(first) : serverOrigin,
          'ProxyReverseServers',
          `ignored for ${label}: it applies to ProxyRole reverse only`,
        );
      }
      if (!forward) {
        for (const setting of [forwardMethod, forwardTo]) {
          if (setting)
            this.warn(
              originOf(setting),
              setting.name,
              `ignored for ${label}: applies to ProxyRole forward only`,
            );
        }
      }
      if (!forward && backends.length === 0) {
        if (!scope.sawBackends && !this.global.sawBackends) {
          this.error(serverOrigin, label, 'ProxyReverseServers is required for a reverse proxy');
        }
        continue;
      }

      const addresses = scope.section ? scope.section.args : (own.DefaultAddress?.value ?? ['0.0.0.0']);
      const baseName = own.ServerName?.value ?? (scope.section ? `${addresses[0]}:${port}` : 'main');
      let name = baseName;
      for (let suffix = 2; poolNames.has(name); suffix++) name = `${baseName}#${suffix}`;
      if (name !== baseName) {
        const where = own.ServerName ? originOf(own.ServerName) : serverOrigin;
        this.warn(
          where,
          label,
          `pool name "${baseName}" is already used by ${poolNames.get(baseName)}; this server's pool is named "${name}"`,
        );
      }
      poolNames.set(
        name,
        `${label} (${serverOrigin.file}${serverOrigin.line ? `:${serverOrigin.line}` : ''})`,
      );

      const retry = own.ProxyRetryCount ?? global.ProxyRetryCount;
      const timeout = own.ProxyTimeoutConnect ?? global.ProxyTimeoutConnect;
      const policy = own.ProxyReverseConnectPolicy ?? global.ProxyReverseConnectPolicy;
      const sftpEngine = scope.sftp.listener.get('engine') ?? this.global.sftp.listener.get('engine');
      const isSftp = sftpEngine?.value === true;
      const lookup = (name: string) => scope.tls.get(name) ?? this.global.tls.get(name);
      const backendTls = this.takeTls(importBackendTls(lookup));
      const fields: Record<string, Origin> = {};
      const pool: NonNullable<ConfigInput['pools']>[number] = {
        name,
        role: forward ? 'forward' : 'reverse',
        connectPolicy: policy?.value ?? 'RoundRobin',
        backends: backends.map((backend) => backend.url),
        ...(backendTls.value ? { tls: backendTls.value } : {}),
      };
      if (backendTls.origin) fields.tls = backendTls.origin;
      if (forward) {
        pool.forward = {
          ...(forwardMethod ? { method: forwardMethod.value } : {}),
          ...(forwardTo ? { to: forwardTo.value } : {}),
        };
        const origin = forwardTo ?? forwardMethod;
        if (origin) fields.forward = originOf(origin);
      }
      if (own.ServerName) fields.name = originOf(own.ServerName);
      if (role) fields.role = originOf(role);
      if (policy) fields.connectPolicy = originOf(policy);
      if (retry) {
        pool.retryCount = retry.value;
        fields.retryCount = originOf(retry);
      }
      if (timeout) {
        pool.connectTimeout = `${timeout.value}ms`;
        fields.connectTimeout = originOf(timeout);
      }
      const inherited = <K extends keyof Settings>(key: K): Settings[K] => own[key] ?? global[key];
      const poolExtras: Array<[keyof Settings, string, (value: never) => unknown]> = [
        ['ProxyDataTransferPolicy', 'dataTransferPolicy', (value: string) => value],
        ['ProxySourceAddress', 'sourceAddress', (value: string) => value],
        ['ForeignDataAddress', 'foreignDataAddress', (value: string) => value],
        ['SendProxyProtocol', 'sendProxyProtocol', (value: string) => value],
        ['ShowFeatures', 'showFeatures', (value: boolean) => value],
        ['DirectDataTransfers', 'directDataTransfers', (value: boolean) => value],
        ['ProxyAuth', 'proxyAuth', (value: boolean) => value],
        ['AuthUserFile', 'authUserFile', (value: string) => value],
        ['AuthGroupFile', 'authGroupFile', (value: string) => value],
        ['IgnoreConfigPerms', 'ignoreConfigPerms', (value: boolean) => value],
        ['ProxyTimeoutLinger', 'lingerTimeout', (value: number) => `${value}ms`],
      ];
      const listPolicy = inherited('ProxyDirectoryListPolicy');
      if (listPolicy) {
        pool.directoryListPolicy = listPolicy.value.policy;
        pool.useSlink = listPolicy.value.useSlink;
        fields.directoryListPolicy = originOf(listPolicy);
        fields.useSlink = originOf(listPolicy);
      }
      for (const [key, field, convert] of poolExtras) {
        const setting = inherited(key);
        if (!setting) continue;
        (pool as Record<string, unknown>)[field] = convert(setting.value as never);
        fields[field] = originOf(setting);
      }
      if (backends[0]) fields.backends = originOf(backends[0]);
      const poolSftp = sftpBlock(scope.sftp.pool, this.global.sftp.pool);
      if (Object.keys(poolSftp.values).length > 0) {
        pool.sftp = poolSftp.values as never;
        fields.sftp = Object.values(poolSftp.origins)[0] as Origin;
      }
      pools.push(pool);
      poolOrigins.push({
        server: serverOrigin,
        fields,
        backends: backends.map(originOf),
        sftp: poolSftp.origins,
      });

      const listenerExtras = this.listenerSettings(own, global, [...scope.limits, ...this.global.limits]);
      const frontendTls = this.takeTls(importFrontendTls(lookup));
      if (frontendTls.value) {
        listenerExtras.values.tls = frontendTls.value;
        if (frontendTls.origin) listenerExtras.fields.tls = frontendTls.origin;
      }
      // A <VirtualHost>'s own ProxyLog becomes its listeners' own log (listeners[].logFile).
      const vhostLog = scope.section ? own.ProxyLog : undefined;
      if (vhostLog && vhostLog.value !== null) {
        listenerExtras.values.logFile = vhostLog.value;
        listenerExtras.fields.logFile = originOf(vhostLog);
      }
      let listenerSftp: Record<string, Origin> | undefined;
      if (isSftp && sftpEngine) {
        // SFTPEngine on: an SSH listener with mod_sftp's settings (docs/sftp.md).
        const block = sftpBlock(scope.sftp.listener, this.global.sftp.listener);
        listenerExtras.values.protocol = 'sftp';
        listenerExtras.values.sftp = block.values;
        listenerExtras.fields.protocol = originOf(sftpEngine);
        listenerExtras.fields.sftp = originOf(sftpEngine);
        listenerSftp = block.origins;
      }
      const addressOrigin = scope.section
        ? serverOrigin
        : own.DefaultAddress
          ? originOf(own.DefaultAddress)
          : serverOrigin;
      const portOrigin = own.Port ? originOf(own.Port) : serverOrigin;
      for (const address of addresses) {
        const endpoint = `${address.includes(':') ? `[${address}]` : address}:${port}`;
        const previous = bound.get(endpoint);
        if (previous) {
          this.error(addressOrigin, label, `${endpoint} is already used by ${previous}`);
          continue;
        }
        bound.set(
          endpoint,
          `${label} (${addressOrigin.file}${addressOrigin.line ? `:${addressOrigin.line}` : ''})`,
        );
        listeners.push({ address, port, pool: name, ...listenerExtras.values });
        listenerOrigins.push({
          address: addressOrigin,
          port: portOrigin,
          fields: listenerExtras.fields,
          ...(listenerSftp ? { sftp: listenerSftp } : {}),
        });
      }
    }

    if (proxies === 0 && unsure === 0) {
      this.error(
        { file: this.file },
        undefined,
        'no server has ProxyEngine on: ftpx would have nothing to serve',
      );
    }

    const input: ConfigInput = { listeners, pools };
    if (this.classes.length > 0) {
      input.classes = this.classes.map(({ name, from, forwardEnabled }) => ({
        name,
        from,
        ...(forwardEnabled === undefined ? {} : { forwardEnabled }),
      }));
    }
    const tables = this.main.settings.ProxyTables;
    if (tables) input.dataDir = tables.value;
    else if (pools.length > 0) {
      this.warn(
        { file: this.file },
        'ProxyTables',
        'not set: ftpx keeps its data in "data" next to this file',
      );
    }
    // The process log is the main server's or <Global>'s; <VirtualHost>s' ProxyLogs went to their listeners.
    const log = this.main.settings.ProxyLog ?? this.global.settings.ProxyLog;
    const transferLog = this.processWide('TransferLog');
    if (transferLog?.value) input.transferLog = transferLog.value;
    if (log?.value) input.log = { file: log.value };
    const tlsCache = this.tlsCache();
    if (tlsCache.input) input.tlsCache = tlsCache.input;
    const traceLog = this.main.settings.TraceLog ?? this.global.settings.TraceLog;
    const traces = [this.main, this.global, ...this.vhosts]
      .map((scope) => scope.settings.Trace)
      .filter((setting) => setting !== undefined);
    if (traceLog) input.log = { ...input.log, traceFile: traceLog.value };
    if (traces.length > 0) {
      input.log = { ...input.log, traces: Object.assign({}, ...traces.map((setting) => setting.value)) };
    }
    const access = this.accessLogs();
    if (access.length > 0) input.log = { ...input.log, access };

    return {
      input,
      locate: (path) => {
        const [head, index, field, item] = path;
        if (head === 'dataDir' && tables) return originOf(tables);
        if (head === 'log' && log) return originOf(log);
        if (head === 'transferLog' && transferLog) return originOf(transferLog);
        if (head === 'classes' && typeof index === 'number') {
          const found = this.classes[index];
          return found ? { ...found.loc, key: `<Class ${found.name}>` } : { file: this.file };
        }
        if (head === 'tlsCache') return tlsCache.origin ?? { file: this.file };
        if (head === 'pools' && typeof index === 'number') {
          const origin = poolOrigins[index];
          if (!origin) return { file: this.file };
          if (field === 'backends' && typeof item === 'number') return origin.backends[item] ?? origin.server;
          if (field === 'sftp' && typeof item === 'string' && origin.sftp?.[item]) return origin.sftp[item];
          return (typeof field === 'string' ? origin.fields[field] : undefined) ?? origin.server;
        }
        if (head === 'listeners' && typeof index === 'number') {
          const origin = listenerOrigins[index];
          if (!origin) return { file: this.file };
          if (field === 'port') return origin.port;
          if (field === 'sftp' && typeof item === 'string' && origin.sftp?.[item]) return origin.sftp[item];
          return (typeof field === 'string' ? origin.fields[field] : undefined) ?? origin.address;
        }
        return { file: this.file };
      },
    };
  }

  /**
   * ExtendedLog + LogFormat → log.access (process-wide, wherever written): one line per session in
   * the named format. Variables ftpx does not have become "-", with a warning naming them.
   */
  private accessLogs(): { file: string; format: string }[] {
    const formats: Record<string, string> = {
      default: '%h %l %u %t "%r" %s %b',
      ...Object.assign(
        {},
        ...[this.main, this.global, ...this.vhosts].map((s) => s.settings.LogFormat?.value ?? {}),
      ),
    };
    const logs: { file: string; format: string }[] = [];
    for (const scope of [this.main, this.global, ...this.vhosts]) {
      for (const log of scope.settings.ExtendedLog?.value ?? []) {
        const format = formats[log.format];
        if (format === undefined) {
          this.error(log.loc, 'ExtendedLog', `no LogFormat named "${log.format}"`);
          continue;
        }
        const { unknown } = parseLogFormat(format);
        let native = format;
        for (const variable of new Set(unknown)) native = native.split(variable).join('-');
        const notes = [
          'one line per session when it ends (ProFTPD writes one per command)',
          ...(log.classes.toUpperCase() !== 'ALL' ? [`command classes "${log.classes}" do not apply`] : []),
          ...(unknown.length > 0
            ? [`${[...new Set(unknown)].join(' ')} written as "-" (not known to ftpx)`]
            : []),
        ];
        this.warn(log.loc, 'ExtendedLog', `carried over as log.access: ${notes.join('; ')}`);
        logs.push({ file: log.file, format: native });
      }
    }
    return logs;
  }

  /** Reports a TLS import's problems; its block and the directive to name when the block is invalid. */
  private takeTls(imported: TlsImport): { value: Record<string, unknown> | undefined; origin?: Origin } {
    for (const problem of imported.errors) this.error(problem.where, problem.key, problem.message);
    for (const problem of imported.warnings) this.warn(problem.where, problem.key, problem.message);
    const first = Object.values(imported.origins)[0];
    return { value: imported.value, ...(first ? { origin: originOf(first) } : {}) };
  }

  /** The client-facing settings of one server (its own, else <Global>'s), as listener fields. */
  private listenerSettings(
    own: Settings,
    global: Settings,
    limits: Setting<LimitSetting>[],
  ): { values: Record<string, unknown>; fields: Record<string, Origin> } {
    const values: Record<string, unknown> = {};
    const fields: Record<string, Origin> = {};
    const take = <K extends keyof Settings>(
      key: K,
      field: string,
      convert: (value: NonNullable<Settings[K]>['value']) => unknown,
    ) => {
      const setting = own[key] ?? global[key];
      if (!setting) return;
      values[field] = convert(setting.value as NonNullable<Settings[K]>['value']);
      fields[field] = originOf(setting);
    };
    take('PassivePorts', 'passivePorts', (range) => range);
    take('MasqueradeAddress', 'masqueradeAddress', (address) => address);
    take('AllowForeignAddress', 'allowForeignAddress', (flag) => flag);
    take('MaxLoginAttempts', 'maxLoginAttempts', (count) => count);
    take('TransferRate', 'transferRate', (rules) => rules);
    // A server's own <Limit> sections come first, then <Global>'s: the first rule naming a command decides.
    if (limits.length > 0) {
      values.limits = limits.map((limit) => limit.value);
      fields.limits = originOf(limits[0] as Setting<LimitSetting>);
    }
    const timeouts: Record<string, string> = {};
    for (const [key, name] of [
      ['TimeoutLogin', 'login'],
      ['TimeoutIdle', 'idle'],
      ['TimeoutNoTransfer', 'noTransfer'],
      ['TimeoutStalled', 'stalled'],
    ] as const) {
      const setting = own[key] ?? global[key];
      if (!setting) continue;
      timeouts[name] = `${setting.value}ms`;
      fields.timeouts = originOf(setting);
    }
    if (Object.keys(timeouts).length > 0) values.timeouts = timeouts;
    return { values, fields };
  }

  /** The `tlsCache` block from mod_tls's cache directives (process-wide, like the logs). */
  private tlsCache(): { input?: NonNullable<ConfigInput['tlsCache']>; origin?: Origin } {
    const what = 'has one TLS cache configuration';
    const sessionCache = this.processWide('TLSSessionCache', what);
    const staplingCache = this.processWide('TLSStaplingCache', what);
    const stapling = this.processWide('TLSStapling', what);
    const options = this.processWide('TLSStaplingOptions', what);
    const responder = this.processWide('TLSStaplingResponder', what);
    const timeout = this.processWide('TLSStaplingTimeout', what);
    const first = [sessionCache, staplingCache, stapling, options, responder, timeout].find(
      (setting) => setting,
    );
    if (!first) return {};
    const input: NonNullable<ConfigInput['tlsCache']> = {};
    if (sessionCache) {
      const value = sessionCache.value;
      input.sessions = {
        enabled: value.enabled,
        ...(value.size !== undefined ? { size: value.size } : {}),
        ...(value.timeoutS !== undefined ? { timeout: value.timeoutS } : {}),
      };
    }
    if (staplingCache || stapling || options || responder || timeout) {
      // Configuring a TLSStaplingCache turns stapling on (mod_tls); TLSStapling says so explicitly.
      const enabled = stapling?.value ?? staplingCache?.value.enabled ?? false;
      input.stapling = {
        enabled,
        ...(staplingCache?.value.size !== undefined ? { size: staplingCache.value.size } : {}),
        ...(responder ? { responder: responder.value } : {}),
        ...(timeout ? { timeout: `${timeout.value}ms` } : {}),
        ...(options?.value ?? {}),
      };
    }
    return { input, origin: originOf(first) };
  }

  /**
   * ftpx writes one log (and one transfer log) for the whole process: the main server's, else
   * <Global>'s, else the first <VirtualHost>'s. One inside a <VirtualHost> gets a warning saying so.
   */
  private processWide<K extends 'ProxyLog' | 'TransferLog' | TlsCacheDirective>(
    key: K,
    what = 'writes one log',
  ): Settings[K] {
    const chosen =
      this.main.settings[key] ??
      this.global.settings[key] ??
      this.vhosts.map((vhost) => vhost.settings[key]).find((log) => log !== undefined);
    for (const vhost of this.vhosts) {
      const log = vhost.settings[key];
      if (!log || !chosen) continue;
      if (log === chosen) {
        this.warn(
          log.loc,
          log.name,
          `applies to the whole ftpx process, not only to ${describeScope(vhost)}`,
        );
      } else {
        this.warn(log.loc, log.name, `ignored: ftpx ${what} for the whole process, set at ${at(chosen.loc)}`);
      }
    }
    return chosen;
  }
}

/** Maps a proftpd.conf tree (see lexer.ts) onto ftpx's native configuration, collecting every problem. */
export function importProftpdTree(file: string, nodes: ConfigNode[]): ImportResult {
  const importer = new Importer(file);
  importer.run(nodes);
  const built = importer.build();
  return { ...built, errors: importer.errors, warnings: importer.warnings };
}
