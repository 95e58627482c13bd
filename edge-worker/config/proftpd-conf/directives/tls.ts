import { type DirectiveLine, type DirectiveRow, ignored } from '../directive-row.js';
import { at, describeScope } from '../state.js';

/**
 * mod_tls's directives (a listener's FTPS, http://www.proftpd.org/docs/contrib/mod_tls.html) and
 * mod_proxy's ProxyTLS* (a pool's backend FTPS, http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyTLSEngine).
 * Their lines are kept whole, one per directive and scope, and read together when a server's `tls`
 * block is built (build-tls.ts): certificates, keys and chains only mean something side by side.
 */

/** mod_tls directives that configure a listener's FTPS (the frontend). */
export const FRONTEND_TLS_DIRECTIVES = [
  'TLSEngine',
  'TLSProtocol',
  'TLSCipherSuite',
  'TLSRSACertificateFile',
  'TLSRSACertificateKeyFile',
  'TLSECCertificateFile',
  'TLSECCertificateKeyFile',
  'TLSCertificateChainFile',
  'TLSCACertificateFile',
  'TLSVerifyClient',
  'TLSRequired',
  'TLSOptions',
  'TLSTimeoutHandshake',
] as const;

/** mod_proxy's ProxyTLS* directives: a pool's backend FTPS. */
const BACKEND_TLS_DIRECTIVES = [
  'ProxyTLSEngine',
  'ProxyTLSTransferProtectionPolicy',
  'ProxyTLSVerifyServer',
  'ProxyTLSCACertificateFile',
  'ProxyTLSCACertificatePath',
  'ProxyTLSCARevocationFile',
  'ProxyTLSCARevocationPath',
  'ProxyTLSCertificateFile',
  'ProxyTLSCertificateKeyFile',
  'ProxyTLSPreSharedKey',
  'ProxyTLSCipherSuite',
  'ProxyTLSProtocol',
  'ProxyTLSTimeoutHandshake',
  'ProxyTLSOptions',
] as const;

/** Keeps the line for build-tls.ts, under the canonical name; a second one in the same scope is an error. */
function keepLine(name: string, line: DirectiveLine): void {
  const { node, scope } = line;
  const first = scope.tls.get(name);
  if (first) line.fail(`is set twice in ${describeScope(scope)} (first at ${at(first.loc)})`);
  else scope.tls.set(name, { args: [...node.args], loc: node.loc, name: node.name });
}

export const TLS_ROWS: DirectiveRow[] = [
  ...[...FRONTEND_TLS_DIRECTIVES, ...BACKEND_TLS_DIRECTIVES].map(
    (name): DirectiveRow => ({
      kind: 'handled',
      name,
      keepsOwnLines: true,
      apply: (line) => keepLine(name, line),
    }),
  ),
  ...ignored(['TLSRenegotiate', 'TLSCACertificatePath'], 'not applied by ftpx yet'),
];
