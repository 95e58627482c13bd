import { isIP } from 'node:net';
import {
  type DirectiveRow,
  handled,
  ignored,
  oneArgument,
  SERVER_AND_VHOST,
  SERVER_ONLY,
  setting,
} from '../directive-row.js';
import { parseBoolean, parseWholeNumber } from '../values.js';
import { absolutePath, positiveCount, timeout } from './arguments.js';

/** ProFTPD core directives (http://www.proftpd.org/docs/directives/configuration_full.html). */

const NOT_YET = 'not applied by ftpx yet';
const NO_FILES = 'ftpx serves no files itself; the backends do';
const NO_AUTH = 'ftpx does not authenticate users itself; the backends do';
const NO_CONTROLS = 'ftpx has no ftpdctl controls';

export const CORE_ROWS: DirectiveRow[] = [
  setting(
    'Port',
    oneArgument((arg, line) => {
      const port = parseWholeNumber(arg);
      if (port !== undefined && port <= 65535) return port;
      line.fail(`must be a port number from 0 to 65535, got "${arg}"`);
      return undefined;
    }),
    SERVER_AND_VHOST,
  ),
  setting(
    'DefaultAddress',
    (line) => {
      if (line.node.args.length > 0) return [...line.node.args];
      line.fail('needs at least one address');
      return undefined;
    },
    SERVER_ONLY,
  ),
  setting(
    'ServerName',
    oneArgument((arg, line) => {
      if (arg.trim() !== '') return arg;
      line.fail('must not be empty');
      return undefined;
    }),
    SERVER_AND_VHOST,
  ),
  handled({
    name: 'ServerAlias',
    scopes: SERVER_AND_VHOST,
    parse: (line) => {
      if (line.node.args.length > 0) return [...line.node.args];
      line.fail('needs at least one host name');
      return undefined;
    },
    // Every line adds names: the names HOST (RFC 7151) may use for this server's pool.
    apply: ({ node, scope }, names) => {
      const previous = scope.settings.ServerAlias;
      scope.settings.ServerAlias = {
        value: [...(previous?.value ?? []), ...names],
        loc: previous?.loc ?? node.loc,
        name: node.name,
      };
    },
  }),
  setting('PassivePorts', (line) => {
    const { args } = line.node;
    if (args.length !== 2) {
      line.fail(`takes a minimum and a maximum port, got ${args.length} argument(s)`);
      return undefined;
    }
    const [min, max] = args.map(parseWholeNumber);
    if (min === undefined || max === undefined || min < 1024 || max > 65535 || min > max) {
      line.fail(
        `needs two ports from 1024 to 65535, the first not above the second; got "${args.join(' ')}"`,
      );
      return undefined;
    }
    return { min, max };
  }),
  setting(
    'MasqueradeAddress',
    oneArgument((arg, line) => {
      if (isIP(arg) !== 6) return arg;
      line.fail('must be an IPv4 address or a host name: PASV replies carry IPv4 only');
      return undefined;
    }),
  ),
  setting(
    'AllowForeignAddress',
    // on, off, or a <Class> name: that class's networks (resolved with the classes, build-listeners.ts).
    oneArgument((arg) => parseBoolean(arg) ?? { className: arg }),
  ),
  setting('TimeoutLogin', timeout),
  setting('TimeoutIdle', timeout),
  setting('TimeoutNoTransfer', timeout),
  setting('TimeoutStalled', timeout),
  setting('MaxLoginAttempts', positiveCount),
  setting('AuthUserFile', absolutePath),
  handled({
    name: 'AuthOrder',
    parse: (line) => {
      if (line.node.args.length > 0) return [...line.node.args];
      line.fail('needs at least one module');
      return undefined;
    },
    apply: (line, modules) => {
      // Proxy authentication (UseReverseProxyAuth) reads AuthUserFile/AuthGroupFile, the store's proxy
      // users and the identity hook: mod_auth_file's part. Other modules' users are not known to ftpx.
      const others = modules.filter((module) => !/^mod_auth_file(\.c)?$/i.test(module));
      if (others.length > 0) {
        line.warn(
          `${others.join(', ')} not used: ftpx's proxy authentication reads AuthUserFile/AuthGroupFile (mod_auth_file), its store's proxy users and the identity hook`,
        );
      }
    },
  }),
  setting('AuthGroupFile', absolutePath),
  ...ignored(['User', 'Group'], 'ftpx does not switch user or group; run it under the account you want'),
  ...ignored(['ServerType'], 'ftpx always runs as a standalone daemon'),
  ...ignored(['LoadModule', 'ModulePath', 'ModuleControlsACLs'], 'ftpx has no loadable modules'),
  ...ignored(['DefaultServer'], 'ftpx has no default server: each listener has its own address and port'),
  ...ignored(
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
  ),
  ...ignored(
    [
      'RequireValidShell',
      'AuthPAM',
      'AuthPAMConfig',
      'UseFtpUsers',
      'RootLogin',
      'PersistentPasswd',
      'UseLastlog',
    ],
    NO_AUTH,
  ),
  ...ignored(['DenyFilter', 'TimeoutSession'], NOT_YET),
  ...ignored(['ServerIdent', 'DeferWelcome', 'MultilineRFC2228'], NOT_YET),
  ...ignored(['UseIPv6'], 'ftpx listens on the addresses given, IPv4 or IPv6'),
  ...ignored(['IdentLookups', 'UseReverseDNS'], 'ftpx does no ident or reverse DNS lookups'),
  ...ignored(['PidFile'], 'ftpx writes no PID file'),
  ...ignored(['ScoreboardFile'], 'ftpx keeps no scoreboard'),
  ...ignored(['DelayEngine'], 'ftpx has no login delay (mod_delay)'),
  ...ignored(
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
  ),
  ...ignored(['ServerAdmin', 'SocketBindTight'], NOT_YET),
];
