import { isAbsolute } from 'node:path';
import { parseTlsProtocols } from '../tls-protocols.js';
import { TLS_REQUIRED_VALUES } from '../tls-schema.js';
import { FRONTEND_TLS_DIRECTIVES } from './directives/tls.js';
import type { Location } from './lexer.js';
import { type Issues, type Origin, originOf, type RawDirective } from './state.js';
import { parseBoolean, parseProftpdDuration } from './values.js';

/**
 * The `tls` blocks from the TLS lines a server kept (directives/tls.ts): a listener's from mod_tls
 * (http://www.proftpd.org/docs/contrib/mod_tls.html), a pool's from mod_proxy's ProxyTLS*
 * (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyTLSEngine).
 */

/** A server's TLS directive by canonical name: its own line, else <Global>'s. */
export type Lookup = (name: string) => RawDirective | undefined;

export interface TlsProblem {
  where: Location;
  key: string;
  message: string;
}

export interface TlsImport {
  /** The native `tls` block, or undefined when the server has none. */
  value: Record<string, unknown> | undefined;
  /** The directive behind each native key, for validation messages. */
  origins: Record<string, RawDirective>;
  errors: TlsProblem[];
  warnings: TlsProblem[];
}

class Collector {
  readonly value: Record<string, unknown> = {};
  readonly origins: Record<string, RawDirective> = {};
  readonly errors: TlsProblem[] = [];
  readonly warnings: TlsProblem[] = [];

  constructor(private readonly get: Lookup) {}

  fail(directive: RawDirective, message: string): void {
    this.errors.push({ where: directive.loc, key: directive.name, message });
  }

  warn(directive: RawDirective, message: string): void {
    this.warnings.push({ where: directive.loc, key: directive.name, message });
  }

  /** The directive's single argument, or undefined (with an error) when it has another count. */
  one(name: string): { directive: RawDirective; arg: string } | undefined {
    const directive = this.get(name);
    if (!directive) return undefined;
    if (directive.args.length !== 1) {
      this.fail(directive, `takes exactly one argument, got ${directive.args.length}`);
      return undefined;
    }
    return { directive, arg: directive.args[0] as string };
  }

  set(key: string, value: unknown, directive: RawDirective): void {
    this.value[key] = value;
    this.origins[key] = directive;
  }

  path(name: string, key: string): string | undefined {
    const found = this.one(name);
    if (!found) return undefined;
    if (!isAbsolute(found.arg)) {
      this.fail(found.directive, `must be an absolute path, got "${found.arg}"`);
      return undefined;
    }
    this.set(key, found.arg, found.directive);
    return found.arg;
  }

  flag(name: string, key: string): void {
    const found = this.one(name);
    if (!found) return;
    const value = parseBoolean(found.arg);
    if (value === undefined) this.fail(found.directive, `expected on or off, got "${found.arg}"`);
    else this.set(key, value, found.directive);
  }

  protocols(name: string): void {
    const directive = this.get(name);
    if (!directive) return;
    const text = directive.args.join(' ');
    const parsed = parseTlsProtocols(text);
    if (!parsed.ok) this.fail(directive, parsed.error);
    else {
      for (const note of parsed.notes ?? []) this.warn(directive, note);
      this.set('protocols', text, directive);
    }
  }

  /** `[TLSv1.3] list`, as mod_tls and mod_proxy read their cipher suite directives. */
  ciphers(name: string): void {
    const directive = this.get(name);
    if (!directive) return;
    const [first, second] = directive.args;
    if (directive.args.length === 2 && first?.toUpperCase() === 'TLSV1.3') {
      this.set('cipherSuites', second, directive);
    } else if (directive.args.length === 2 && /^TLSv1(\.[0-2])?$/i.test(first ?? '')) {
      this.set('ciphers', second, directive);
    } else if (directive.args.length === 1 && first !== undefined) {
      if (/_/.test(first) && !first.includes(':!')) {
        this.fail(
          directive,
          `"${first}" looks like a TLS 1.3 suite list: write ${directive.name} TLSv1.3 ${first}`,
        );
      } else this.set('ciphers', first, directive);
    } else {
      this.fail(directive, 'takes a cipher list, optionally after a protocol (TLSv1.3 for TLS 1.3 suites)');
    }
  }

  duration(name: string, key: string): void {
    const found = this.one(name);
    if (!found) return;
    const ms = found.arg === '0' ? 0 : parseProftpdDuration(found.arg);
    if (ms === undefined)
      this.fail(found.directive, `"${found.arg}" is not a duration (use e.g. 30, 30sec or 5min)`);
    else this.set(key, `${ms}ms`, found.directive);
  }

  result(present: boolean): TlsImport {
    return {
      value: present ? this.value : undefined,
      origins: this.origins,
      errors: this.errors,
      warnings: this.warnings,
    };
  }
}

/** mod_tls TLSOptions ftpx applies; the others are ignored with a warning. */
export const FRONTEND_OPTIONS = new Set(['NoSessionReuseRequired', 'UseImplicitSSL']);

/**
 * A listener's `tls` block from mod_tls's directives: present when `TLSEngine on`. Implicit FTPS is
 * `TLSOptions UseImplicitSSL` (ProFTPD 1.3.8's spelling); certificates come from the RSA and EC
 * directives (both may be given: they serve the same names).
 */
export function importFrontendTls(get: Lookup): TlsImport {
  const c = new Collector(get);
  const engine = c.one('TLSEngine');
  const on = engine ? parseBoolean(engine.arg) : undefined;
  if (engine && on === undefined) c.fail(engine.directive, `expected on or off, got "${engine.arg}"`);
  if (!on) {
    for (const name of FRONTEND_TLS_DIRECTIVES) {
      const directive = get(name);
      if (directive && name !== 'TLSEngine')
        c.warn(directive, 'ignored: TLSEngine is not on for this server');
    }
    return c.result(false);
  }
  const certificates: Record<string, unknown>[] = [];
  const chain = c.path('TLSCertificateChainFile', 'certificates');
  for (const kind of ['RSA', 'EC'] as const) {
    const certDirective = get(`TLS${kind}CertificateFile`);
    const cert = c.path(`TLS${kind}CertificateFile`, 'certificates');
    const key = c.path(`TLS${kind}CertificateKeyFile`, 'certificates');
    const keyDirective = get(`TLS${kind}CertificateKeyFile`);
    if (key && !cert && keyDirective) c.fail(keyDirective, `needs TLS${kind}CertificateFile`);
    if (cert) certificates.push({ cert, ...(key ? { key } : {}), ...(chain ? { chain } : {}) });
    if (certDirective) c.origins.certificates = certDirective;
  }
  if (certificates.length === 0 && engine) {
    c.fail(engine.directive, 'TLSEngine on needs TLSRSACertificateFile or TLSECCertificateFile');
  }
  c.set(
    'certificates',
    certificates,
    c.origins.certificates ?? (engine as { directive: RawDirective }).directive,
  );
  c.protocols('TLSProtocol');
  c.ciphers('TLSCipherSuite');
  c.path('TLSCACertificateFile', 'clientCA');
  const verify = c.one('TLSVerifyClient');
  if (verify) {
    const lower = verify.arg.toLowerCase();
    const flag = parseBoolean(verify.arg);
    if (lower === 'optional') c.set('verifyClient', 'optional', verify.directive);
    else if (flag !== undefined) c.set('verifyClient', flag ? 'on' : 'off', verify.directive);
    else c.fail(verify.directive, `expected on, off or optional, got "${verify.arg}"`);
  }
  const required = c.one('TLSRequired');
  if (required) {
    const value = TLS_REQUIRED_VALUES.find((known) => known === required.arg.toLowerCase());
    if (value === undefined)
      c.fail(required.directive, `expected one of ${TLS_REQUIRED_VALUES.join(', ')}, got "${required.arg}"`);
    else c.set('required', value, required.directive);
  }
  const options = get('TLSOptions');
  if (options) {
    for (const option of options.args) {
      if (option === 'NoSessionReuseRequired') c.set('sessionReuseRequired', false, options);
      else if (option === 'UseImplicitSSL') c.set('mode', 'implicit', options);
      else if (!FRONTEND_OPTIONS.has(option))
        c.warn(options, `ignored option ${option}: ftpx does not apply it`);
    }
  }
  c.duration('TLSTimeoutHandshake', 'handshakeTimeout');
  return c.result(true);
}

export const BACKEND_OPTIONS: Record<string, string> = {
  NoSessionCache: 'noSessionCache',
  NoSessionTickets: 'noSessionTickets',
  AllowWeakSecurity: 'allowWeakSecurity',
  EnableDiags: 'enableDiags',
};

/**
 * A pool's `tls` block from the ProxyTLS* directives. Without ProxyTLSEngine the engine is `auto`,
 * mod_proxy's default (TLS with backends that offer it).
 */
export function importBackendTls(get: Lookup): TlsImport {
  const c = new Collector(get);
  const engine = c.one('ProxyTLSEngine');
  if (engine) {
    const lower = engine.arg.toLowerCase();
    const flag = parseBoolean(engine.arg);
    if (flag !== undefined) c.set('engine', flag ? 'on' : 'off', engine.directive);
    else if (lower === 'auto') c.set('engine', 'auto', engine.directive);
    else if (lower === 'matchclient') c.set('engine', 'MatchClient', engine.directive);
    else c.fail(engine.directive, `expected on, off, auto or MatchClient, got "${engine.arg}"`);
  }
  const policy = c.one('ProxyTLSTransferProtectionPolicy');
  if (policy) {
    const value = ['client', 'required', 'clear'].find((known) => known === policy.arg.toLowerCase());
    if (value === undefined)
      c.fail(policy.directive, `expected client, required or clear, got "${policy.arg}"`);
    else c.set('transferProtection', value, policy.directive);
  }
  c.flag('ProxyTLSVerifyServer', 'verifyServer');
  c.path('ProxyTLSCACertificateFile', 'caFile');
  c.path('ProxyTLSCACertificatePath', 'caPath');
  c.path('ProxyTLSCARevocationFile', 'crlFile');
  c.path('ProxyTLSCARevocationPath', 'crlPath');
  c.path('ProxyTLSCertificateFile', 'certFile');
  const key = get('ProxyTLSCertificateKeyFile');
  if (key?.args[0]?.startsWith('pkcs11:'))
    c.fail(key, 'PKCS#11 keys are not supported by ftpx: give a PEM key file');
  else c.path('ProxyTLSCertificateKeyFile', 'keyFile');
  const psk = get('ProxyTLSPreSharedKey');
  if (psk) {
    const [identity, keyRef] = psk.args;
    if (psk.args.length !== 2 || identity === undefined || keyRef === undefined) {
      c.fail(psk, 'takes an identity and hex:/path/to/key');
    } else if (!/^hex:\//.test(keyRef)) {
      c.fail(psk, `"${keyRef}": only the hex: encoding with an absolute path exists (hex:/path/to/key)`);
    } else c.set('preSharedKey', { identity, key: keyRef }, psk);
  }
  c.ciphers('ProxyTLSCipherSuite');
  c.protocols('ProxyTLSProtocol');
  c.duration('ProxyTLSTimeoutHandshake', 'handshakeTimeout');
  const options = get('ProxyTLSOptions');
  if (options) {
    for (const option of options.args) {
      // Case-sensitive, as in mod_proxy.
      const field = BACKEND_OPTIONS[option];
      if (field) c.set(field, true, options);
      else c.fail(options, `unknown option "${option}" (known: ${Object.keys(BACKEND_OPTIONS).join(', ')})`);
    }
  }
  return c.result(Object.keys(c.value).length > 0);
}

/** Reports a TLS import's problems; its block and the directive to name when the block is invalid. */
export function takeTls(
  imported: TlsImport,
  issues: Issues,
): { value: Record<string, unknown> | undefined; origin?: Origin } {
  for (const problem of imported.errors) issues.error(problem.where, problem.key, problem.message);
  for (const problem of imported.warnings) issues.warn(problem.where, problem.key, problem.message);
  const first = Object.values(imported.origins)[0];
  return { value: imported.value, ...(first ? { origin: originOf(first) } : {}) };
}
