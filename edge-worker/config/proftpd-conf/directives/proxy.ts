import { isIP } from 'node:net';
// All of mod_proxy's connect policies (matched case-insensitively, as mod_proxy does).
import { CONNECT_POLICIES as MOD_PROXY_CONNECT_POLICIES } from '../../../../functions/contract/connect-policies.js';
import { FORWARD_METHODS, findForwardMethod } from '../../../forward/forward-methods.js';
import { parseForwardToDirective } from '../../../forward/forward-to.js';
import { parseBackendSource } from '../../../reverse/backend-source.js';
import { CONNECT_POLICIES, DATA_TRANSFER_POLICIES } from '../../schema.js';
import { closestMatch } from '../../suggest.js';
import {
  type DirectiveLine,
  type DirectiveRow,
  handled,
  oneArgument,
  SERVER_ONLY,
  setting,
} from '../directive-row.js';
import type { ConnectPolicy } from '../state.js';
import { parseBoolean, parseProftpdDuration } from '../values.js';
import { absolutePath, positiveCount, timeout } from './arguments.js';

/** mod_proxy's own directives (http://www.proftpd.org/docs/contrib/mod_proxy.html). */

/** ProxyOptions that ftpx refuses with a reason. */
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

/** Every ProxyOptions option ftpx knows and the pool key it sets, for the generated directive table. */
export const PROXY_OPTIONS_DOC: ReadonlyArray<{ option: string; applies: string }> = [
  { option: 'AllowForeignAddress', applies: '`pools[].foreignDataAddress: allow`' },
  {
    option: 'IgnoreForeignAddress',
    applies: '`pools[].foreignDataAddress: ignore` (wins over AllowForeignAddress)',
  },
  { option: 'ShowFeatures', applies: '`pools[].showFeatures`' },
  {
    option: 'UseReverseProxyAuth',
    applies: '`pools[].proxyAuth` (with AuthUserFile/AuthGroupFile: `authUserFile`, `authGroupFile`)',
  },
  { option: 'UseDirectDataTransfers', applies: '`pools[].directDataTransfers`' },
  { option: 'IgnoreConfigPerms', applies: '`pools[].ignoreConfigPerms`' },
  ...Object.entries(PROXY_PROTOCOL_OPTIONS).map(([option, version]) => ({
    option,
    applies: `\`pools[].sendProxyProtocol: ${version}\` (FTP and sftp:// pools: sent before the SSH identification)`,
  })),
];

/** `ProxyOptions`: each option (case-sensitive, as in mod_proxy) switches one pool setting. */
function applyProxyOptions(line: DirectiveLine): void {
  const { node, scope } = line;
  if (node.args.length === 0) {
    line.fail('needs at least one option');
    return;
  }
  for (const option of node.args) {
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
      line.fail(`${option} is not supported by ftpx yet`);
    } else {
      const suggestion = closestMatch(option, [
        'AllowForeignAddress',
        'IgnoreForeignAddress',
        ...Object.keys(PROXY_OPTION_FLAGS),
        ...PROXY_OPTIONS_NOT_YET,
        ...Object.keys(PROXY_PROTOCOL_OPTIONS),
      ]);
      line.fail(
        `unknown option "${option}"${suggestion ? ` (did you mean ${suggestion}? options are case-sensitive)` : ''}`,
      );
    }
  }
}

/** `ProxyReverseServers`: URLs (ftp://, with +srv / +txt), and file: lists (absolute; %U per user, %g refused). */
function applyReverseServers(line: DirectiveLine): void {
  const { node, scope } = line;
  scope.sawBackends = true;
  if (node.args.length === 0) {
    line.fail('needs at least one backend URL');
    return;
  }
  for (const arg of node.args) {
    const parsed = parseBackendSource(arg);
    if (!parsed.ok) line.fail(parsed.error);
    else scope.backends.push({ url: arg, loc: node.loc, name: node.name });
  }
}

export const PROXY_ROWS: DirectiveRow[] = [
  setting('ProxyEngine', (line) => {
    line.scope.sawEngine = true;
    const arg = line.one();
    if (arg === undefined) return undefined;
    const value = parseBoolean(arg);
    if (value === undefined) line.fail(`expected on or off, got "${arg}"`);
    return value;
  }),
  setting(
    'ProxyRole',
    oneArgument((arg, line) => {
      const lower = arg.toLowerCase();
      if (lower === 'reverse' || lower === 'forward') return lower;
      line.fail(`expected reverse or forward, got "${arg}"`);
      return undefined;
    }),
  ),
  {
    kind: 'handled',
    name: 'ProxyReverseServers',
    apply: applyReverseServers,
  },
  setting(
    'ProxyReverseConnectPolicy',
    oneArgument((arg, line): ConnectPolicy | undefined => {
      const policy = MOD_PROXY_CONNECT_POLICIES.find((known) => known.toLowerCase() === arg.toLowerCase());
      if (policy === undefined) {
        line.fail(`"${arg}" is not a connect policy (valid: ${MOD_PROXY_CONNECT_POLICIES.join(', ')})`);
      } else if (!(CONNECT_POLICIES as readonly string[]).includes(policy)) {
        line.fail(`${policy} is not supported by ftpx yet (supported: ${CONNECT_POLICIES.join(', ')})`);
      } else {
        return policy as ConnectPolicy;
      }
      return undefined;
    }),
  ),
  setting('ProxyRetryCount', positiveCount),
  setting(
    'ProxyTimeoutConnect',
    oneArgument((arg, line) => {
      const ms = parseProftpdDuration(arg);
      if (ms === undefined)
        line.fail(`"${arg}" is not a duration (use e.g. 5, 5sec, 500ms, 2min, 1hr or hh:mm:ss)`);
      else if (ms === 0) line.fail('must be longer than zero');
      else return ms;
      return undefined;
    }),
  ),
  setting('ProxyTables', absolutePath, SERVER_ONLY),
  handled({
    name: 'ProxyDatastore',
    scopes: SERVER_ONLY,
    parse: (line) => {
      const { node } = line;
      const type = node.args[0]?.toLowerCase();
      if (type === 'sqlite' && node.args.length === 1) return 'SQLite';
      // mod_proxy's datastore holds its balancing state; ftpx keeps that in its own store, shared by
      // every worker, so a Redis datastore (shared by several proxies) has nothing left to do here.
      if (type === 'redis' && node.args.length === 2) return 'Redis';
      if (type === 'redis') line.fail('Redis needs a key prefix: ProxyDatastore Redis <prefix>');
      else line.fail(`expected SQLite or Redis <prefix>, got "${node.args.join(' ')}"`);
      return undefined;
    },
    apply: (line, value) => {
      line.set('ProxyDatastore', value);
      line.warn('ignored: ftpx keeps its state in its own store (see ProxyTables)');
    },
  }),
  setting(
    'ProxyDataTransferPolicy',
    oneArgument((arg, line) => {
      // PASV, EPSV, PORT and EPRT are command names (upper case); the others words, matched case-insensitively.
      const policy = DATA_TRANSFER_POLICIES.find((known) => known.toLowerCase() === arg.toLowerCase());
      if (policy === undefined)
        line.fail(`expected one of ${DATA_TRANSFER_POLICIES.join(', ')}, got "${arg}"`);
      return policy;
    }),
  ),
  setting('ProxyDirectoryListPolicy', (line) => {
    const { node } = line;
    const [policy, ...options] = node.args;
    const lower = policy?.toLowerCase();
    if (lower !== 'client' && lower !== 'list') {
      line.fail(`expected client or LIST [UseSlink], got "${node.args.join(' ')}"`);
      return undefined;
    }
    const unknown = options.filter((option) => option.toLowerCase() !== 'useslink');
    if (unknown.length > 0) line.fail(`unknown option(s) ${unknown.join(', ')} (known: UseSlink)`);
    else if (lower === 'client' && options.length > 0) line.fail('UseSlink applies to the LIST policy only');
    else return { policy: lower === 'list' ? 'LIST' : 'client', useSlink: options.length > 0 };
    return undefined;
  }),
  { kind: 'handled', name: 'ProxyOptions', apply: applyProxyOptions },
  setting(
    'ProxySourceAddress',
    oneArgument((arg, line) => {
      if (isIP(arg) !== 0) return arg;
      line.fail(`must be an IP address (interface names are not supported by ftpx), got "${arg}"`);
      return undefined;
    }),
  ),
  setting('ProxyTimeoutLinger', timeout),
  setting(
    'ProxyForwardMethod',
    oneArgument((arg, line) => {
      const method = findForwardMethod(arg);
      if (method === undefined) line.fail(`expected one of ${FORWARD_METHODS.join(', ')}, got "${arg}"`);
      return method;
    }),
  ),
  setting('ProxyForwardTo', (line) => {
    const parsed = parseForwardToDirective(line.node.args);
    if (parsed.ok) return parsed.rule;
    line.fail(parsed.error);
    return undefined;
  }),
];
