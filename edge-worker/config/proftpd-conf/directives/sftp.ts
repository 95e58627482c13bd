import { isAbsolute } from 'node:path';
import { authChainProblem } from '../../../sftp/auth-chains.js';
import { type DirectiveLine, type DirectiveRow, ignored } from '../directive-row.js';
import type { SftpScope, SftpSetting } from '../state.js';
import { parseBoolean, parseWholeNumber } from '../values.js';

/**
 * mod_sftp's directives (the frontend SSH server, http://www.proftpd.org/docs/contrib/mod_sftp.html)
 * and mod_proxy's ProxySFTP* (the backend SSH client,
 * http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxySFTPCiphers), read into one scope's SFTP
 * settings and turned into a listener's `sftp` block and a pool's `sftp` block (docs/sftp.md).
 */

type Side = keyof SftpScope;

const COMPRESSION = ['on', 'off', 'delayed'];

/** Records one field of the listener's or the pool's `sftp` block; a second line is an error unless the value is a list. */
function set(line: DirectiveLine, side: Side, field: string, value: unknown): void {
  const target = line.scope.sftp[side];
  const first = target.get(field);
  if (first && !Array.isArray(first.value)) {
    line.fail(`is set twice (first at ${first.loc.file}:${first.loc.line})`);
    return;
  }
  target.set(field, { value, loc: line.node.loc, name: line.node.name });
}

/** Adds to a list field; every line counts. */
function append(line: DirectiveLine, side: Side, field: string, values: string[]): void {
  const target = line.scope.sftp[side];
  const current = target.get(field);
  const list = Array.isArray(current?.value) ? (current.value as string[]) : [];
  target.set(field, {
    value: [...list, ...values],
    loc: current?.loc ?? line.node.loc,
    name: line.node.name,
  });
}

/** A row that reads the line and records one field of `side`'s `sftp` block. */
function field<T>(
  name: string,
  side: Side,
  key: string,
  parse: (line: DirectiveLine) => T | undefined,
): DirectiveRow {
  return {
    kind: 'handled',
    name,
    apply: (line) => {
      const value = parse(line);
      if (value !== undefined) set(line, side, key, value);
    },
  };
}

const algorithms = (line: DirectiveLine): string[] | undefined => {
  if (line.node.args.length > 0) return line.node.args;
  line.fail('needs at least one algorithm');
  return undefined;
};

const compression = (line: DirectiveLine): string | undefined => {
  const value = line.one()?.toLowerCase();
  if (value === undefined) return undefined;
  if (!COMPRESSION.includes(value)) {
    line.fail(`expected on, off or delayed, got "${line.node.args[0]}"`);
    return undefined;
  }
  return value;
};

/** SFTPAuthorizedUserKeys / SFTPAuthorizedHostKeys: one `file:` source, an absolute path (`%u` allowed). */
const keyFileSource = (line: DirectiveLine): string | undefined => {
  const { args } = line.node;
  const files = args.filter((arg) => arg.startsWith('file:'));
  const others = args.filter((arg) => !arg.startsWith('file:'));
  if (others.length > 0) {
    line.fail(`only file: sources are supported by ftpx, not "${others.join(' ')}"`);
    return undefined;
  }
  if (files.length !== 1) {
    line.fail('needs exactly one file: source (e.g. file:/etc/proftpd/authorized_keys/%u)');
    return undefined;
  }
  const path = (files[0] as string).slice('file:'.length);
  if (isAbsolute(path)) return path;
  line.fail(`must be an absolute path (~ is not expanded by ftpx), got "${path}"`);
  return undefined;
};

const anyArgument = (line: DirectiveLine): string | undefined => line.one();

/** SFTPHostKey / ProxySFTPHostKey: every line adds a key file. */
function hostKey(name: string, side: Side): DirectiveRow {
  return {
    kind: 'handled',
    name,
    apply: (line) => {
      const path = line.one();
      if (path === undefined) return;
      if (/^no(rsa|dsa|ecdsa|ed25519|ed448)$/i.test(path)) {
        line.fail(`${path} is not supported by ftpx: list the host keys to use instead`);
        return;
      }
      // agent: keys and relative paths are reported by the configuration schema, with this line.
      append(line, side, 'hostKeys', [path]);
    },
  };
}

const refused = (name: string, message: string): DirectiveRow => ({
  kind: 'unsupported',
  name,
  reason: message,
});

export const SFTP_ROWS: DirectiveRow[] = [
  // The listener's `sftp` block (mod_sftp).
  field('SFTPEngine', 'listener', 'engine', (line) => {
    const value = parseBoolean(line.one() ?? '');
    if (value === undefined) line.fail(`expected on or off, got "${line.node.args.join(' ')}"`);
    return value;
  }),
  hostKey('SFTPHostKey', 'listener'),
  field('SFTPAuthMethods', 'listener', 'authMethods', (line) => {
    const { args } = line.node;
    if (args.length === 0) line.fail('needs at least one method');
    for (const method of args) {
      const problem = authChainProblem(method);
      if (problem) {
        line.fail(problem);
        return undefined;
      }
    }
    return args;
  }),
  field('SFTPCiphers', 'listener', 'ciphers', algorithms),
  field('SFTPDigests', 'listener', 'digests', algorithms),
  field('SFTPKeyExchanges', 'listener', 'keyExchanges', algorithms),
  field('SFTPHostKeyAlgorithms', 'listener', 'hostKeyAlgorithms', algorithms),
  field('SFTPAuthorizedUserKeys', 'listener', 'authorizedUserKeys', keyFileSource),
  field('SFTPAuthorizedHostKeys', 'listener', 'authorizedHostKeys', keyFileSource),
  field('SFTPCompression', 'listener', 'compression', compression),
  field('SFTPPassPhraseProvider', 'listener', 'passPhraseProvider', anyArgument),
  refused(
    'SFTPDisplayBanner',
    'takes a file in ProFTPD; ftpx takes the banner text in YAML (listeners[].sftp.banner)',
  ),
  // The pool's `sftp` block (mod_proxy's ProxySFTP*).
  field('ProxySFTPCiphers', 'pool', 'ciphers', algorithms),
  field('ProxySFTPCompression', 'pool', 'compression', compression),
  field('ProxySFTPDigests', 'pool', 'digests', algorithms),
  hostKey('ProxySFTPHostKey', 'pool'),
  field('ProxySFTPKeyExchanges', 'pool', 'keyExchanges', algorithms),
  {
    kind: 'handled',
    name: 'ProxySFTPOptions',
    apply: (line) => {
      if (line.node.args.length === 0) line.fail('needs at least one option');
      else append(line, 'pool', 'options', line.node.args);
    },
  },
  field('ProxySFTPPassPhraseProvider', 'pool', 'passPhraseProvider', anyArgument),
  field('ProxySFTPServerAlive', 'pool', 'serverAlive', (line) => {
    const { args } = line.node;
    const [count, interval] = args.map((arg) => parseWholeNumber(arg));
    if (args.length === 2 && count !== undefined && interval !== undefined) return { count, interval };
    line.fail(`expected "count interval" (whole numbers), got "${args.join(' ')}"`);
    return undefined;
  }),
  refused(
    'ProxySFTPServerMatch',
    'cannot be applied: its only key, pessimisticNewkeys, has no ssh2 equivalent',
  ),
  field('ProxySFTPVerifyServer', 'pool', 'verifyServer', (line) => {
    const arg = line.one();
    if (arg === undefined) return undefined;
    const flag = parseBoolean(arg);
    if (arg.toLowerCase() === 'enforce') return 'enforce';
    if (flag === undefined) line.fail(`expected on, off or enforce (ftpx), got "${arg}"`);
    else return flag ? 'on' : 'off';
    return undefined;
  }),
  // mod_sftp directives read but not applied.
  ...ignored(
    [
      'SFTPOptions',
      'SFTPClientMatch',
      'SFTPClientAlive',
      'SFTPMaxChannels',
      'SFTPRekey',
      'SFTPTrafficPolicy',
    ],
    'not applied by ftpx yet',
  ),
];

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
