import { isAbsolute } from 'node:path';
import type { DirectiveNode, Location } from './lexer.js';
import { parseBoolean, parseWholeNumber } from './values.js';

/**
 * mod_sftp's directives (the frontend SSH server) and mod_proxy's ProxySFTP* (the backend SSH
 * client), read into one scope's SFTP settings and turned into a listener's `sftp` block and a
 * pool's `sftp` block (docs/sftp.md).
 */

export const SFTP_LISTENER_DIRECTIVES = [
  'SFTPEngine',
  'SFTPHostKey',
  'SFTPAuthMethods',
  'SFTPCiphers',
  'SFTPDigests',
  'SFTPKeyExchanges',
  'SFTPHostKeyAlgorithms',
  'SFTPAuthorizedUserKeys',
  'SFTPCompression',
  'SFTPPassPhraseProvider',
  'SFTPDisplayBanner',
] as const;

export const SFTP_POOL_DIRECTIVES = [
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
] as const;

/** mod_sftp directives read but not applied, with the reason. */
export const SFTP_IGNORED: Array<[string[], string]> = [
  [['SFTPLog'], 'ftpx logs only to ProxyLog (or standard error)'],
  [
    [
      'SFTPOptions',
      'SFTPClientMatch',
      'SFTPClientAlive',
      'SFTPMaxChannels',
      'SFTPRekey',
      'SFTPTrafficPolicy',
    ],
    'not applied by ftpx yet',
  ],
  [['SFTPAuthorizedHostKeys'], 'hostbased logins from clients are not accepted by ftpx'],
];

interface SftpSetting {
  value: unknown;
  loc: Location;
  name: string;
}

/** The SFTP settings of one scope: listener fields and pool fields, each with its directive. */
export interface SftpScope {
  listener: Map<string, SftpSetting>;
  pool: Map<string, SftpSetting>;
}

export const newSftpScope = (): SftpScope => ({ listener: new Map(), pool: new Map() });

const COMPRESSION = ['on', 'off', 'delayed'];
const AUTH_METHODS = ['password', 'keyboard-interactive', 'publickey'];

/**
 * Reads one SFTP directive into `scope`; false when `node` is not one. `fail` reports an error at
 * the directive's line.
 */
export function readSftpDirective(
  node: DirectiveNode,
  scope: SftpScope,
  fail: (message: string) => void,
): boolean {
  const name = node.name.toLowerCase();
  const args = node.args;
  const set = (target: Map<string, SftpSetting>, field: string, value: unknown) => {
    const first = target.get(field);
    if (first && !Array.isArray(first.value)) {
      fail(`is set twice (first at ${first.loc.file}:${first.loc.line})`);
      return;
    }
    target.set(field, { value, loc: node.loc, name: node.name });
  };
  const append = (target: Map<string, SftpSetting>, field: string, values: string[]) => {
    const current = target.get(field);
    const list = Array.isArray(current?.value) ? (current.value as string[]) : [];
    target.set(field, { value: [...list, ...values], loc: current?.loc ?? node.loc, name: node.name });
  };
  const one = (): string | undefined => {
    if (args.length !== 1) {
      fail(`takes exactly one argument, got ${args.length}`);
      return undefined;
    }
    return args[0];
  };
  const list = (): string[] | undefined => {
    if (args.length === 0) {
      fail('needs at least one algorithm');
      return undefined;
    }
    return args;
  };
  const compression = (): string | undefined => {
    const value = one()?.toLowerCase();
    if (value === undefined) return undefined;
    if (!COMPRESSION.includes(value)) {
      fail(`expected on, off or delayed, got "${args[0]}"`);
      return undefined;
    }
    return value;
  };
  const keyFile = (target: Map<string, SftpSetting>, field: string) => {
    const path = one();
    if (path === undefined) return;
    if (/^no(rsa|dsa|ecdsa|ed25519|ed448)$/i.test(path)) {
      fail(`${path} is not supported by ftpx: list the host keys to use instead`);
      return;
    }
    // agent: keys and relative paths are reported by the configuration schema, with this line.
    append(target, field, [path]);
  };
  switch (name) {
    case 'sftpengine': {
      const value = parseBoolean(one() ?? '');
      if (value === undefined) fail(`expected on or off, got "${args.join(' ')}"`);
      else set(scope.listener, 'engine', value);
      return true;
    }
    case 'sftphostkey':
      keyFile(scope.listener, 'hostKeys');
      return true;
    case 'sftpauthmethods': {
      if (args.length === 0) fail('needs at least one method');
      for (const method of args) {
        if (method.includes('+')) {
          fail(
            `authentication chains ("${method}") are not supported by ftpx; a backend can still require several methods`,
          );
          return true;
        }
        if (!AUTH_METHODS.includes(method)) {
          fail(`"${method}" is not supported by ftpx (supported: ${AUTH_METHODS.join(', ')})`);
          return true;
        }
      }
      set(scope.listener, 'authMethods', args);
      return true;
    }
    case 'sftpciphers':
    case 'sftpdigests':
    case 'sftpkeyexchanges':
    case 'sftphostkeyalgorithms': {
      const names = list();
      const field = {
        sftpciphers: 'ciphers',
        sftpdigests: 'digests',
        sftpkeyexchanges: 'keyExchanges',
        sftphostkeyalgorithms: 'hostKeyAlgorithms',
      }[name];
      if (names && field) set(scope.listener, field, names);
      return true;
    }
    case 'sftpauthorizeduserkeys': {
      const files = args.filter((arg) => arg.startsWith('file:'));
      const others = args.filter((arg) => !arg.startsWith('file:'));
      if (others.length > 0) {
        fail(`only file: sources are supported by ftpx, not "${others.join(' ')}"`);
        return true;
      }
      if (files.length !== 1) {
        fail('needs exactly one file: source (e.g. file:/etc/proftpd/authorized_keys/%u)');
        return true;
      }
      const path = (files[0] as string).slice('file:'.length);
      if (!isAbsolute(path)) fail(`must be an absolute path (~ is not expanded by ftpx), got "${path}"`);
      else set(scope.listener, 'authorizedUserKeys', path);
      return true;
    }
    case 'sftpcompression': {
      const value = compression();
      if (value) set(scope.listener, 'compression', value);
      return true;
    }
    case 'sftppassphraseprovider': {
      const value = one();
      if (value !== undefined) set(scope.listener, 'passPhraseProvider', value);
      return true;
    }
    case 'sftpdisplaybanner': {
      fail('takes a file in ProFTPD; ftpx takes the banner text in YAML (listeners[].sftp.banner)');
      return true;
    }
    case 'proxysftpciphers':
    case 'proxysftpdigests':
    case 'proxysftpkeyexchanges': {
      const names = list();
      const field = {
        proxysftpciphers: 'ciphers',
        proxysftpdigests: 'digests',
        proxysftpkeyexchanges: 'keyExchanges',
      }[name];
      if (names && field) set(scope.pool, field, names);
      return true;
    }
    case 'proxysftpcompression': {
      const value = compression();
      if (value) set(scope.pool, 'compression', value);
      return true;
    }
    case 'proxysftphostkey':
      keyFile(scope.pool, 'hostKeys');
      return true;
    case 'proxysftpoptions':
      if (args.length === 0) fail('needs at least one option');
      else append(scope.pool, 'options', args);
      return true;
    case 'proxysftppassphraseprovider': {
      const value = one();
      if (value !== undefined) set(scope.pool, 'passPhraseProvider', value);
      return true;
    }
    case 'proxysftpserveralive': {
      const [count, interval] = args.map((arg) => parseWholeNumber(arg));
      if (args.length !== 2 || count === undefined || interval === undefined) {
        fail(`expected "count interval" (whole numbers), got "${args.join(' ')}"`);
      } else {
        set(scope.pool, 'serverAlive', { count, interval });
      }
      return true;
    }
    case 'proxysftpservermatch':
      fail('cannot be applied: its only key, pessimisticNewkeys, has no ssh2 equivalent');
      return true;
    case 'proxysftpverifyserver': {
      const arg = one();
      if (arg === undefined) return true;
      const flag = parseBoolean(arg);
      if (arg.toLowerCase() === 'enforce') set(scope.pool, 'verifyServer', 'enforce');
      else if (flag === undefined) fail(`expected on, off or enforce (ftpx), got "${arg}"`);
      else set(scope.pool, 'verifyServer', flag ? 'on' : 'off');
      return true;
    }
    default:
      return false;
  }
}

/** A scope's own SFTP settings over <Global>'s, as a YAML block and the directive behind each field. */
export function sftpBlock(
  own: Map<string, SftpSetting>,
  global: Map<string, SftpSetting>,
): { values: Record<string, unknown>; origins: Record<string, { file: string; line: number; key: string }> } {
  const values: Record<string, unknown> = {};
  const origins: Record<string, { file: string; line: number; key: string }> = {};
  for (const field of new Set([...global.keys(), ...own.keys()])) {
    const setting = own.get(field) ?? global.get(field);
    if (!setting || field === 'engine') continue;
    values[field] = setting.value;
    origins[field] = { ...setting.loc, key: setting.name };
  }
  return { values, origins };
}
