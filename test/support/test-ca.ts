import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './run-command.js';

/** A certificate and its key as files (PEM). */
export interface IssuedCert {
  cert: string;
  key: string;
}

/**
 * A throwaway PKI made with openssl for one suite: a CA with its CRL, and the certificates the TLS
 * tests need. Every file lives in `dir` (removed by `remove()`); keys are EC P-256 (fast to make).
 */
export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file): what the proxy and clients trust. */
  caCert: string;
  /** The CA's CRL (PEM file), revoking `revoked`. */
  crl: string;
  /** For `localhost` and 127.0.0.1 / ::1. */
  server: IssuedCert;
  /** Same names, revoked in `crl`. */
  revoked: IssuedCert;
  /** Valid, but only for `other.example`: a host name (and IP) mismatch on loopback. */
  wrongName: IssuedCert;
  /** For `alt.test` (SNI tests). */
  alt: IssuedCert;
  /** A client certificate (extendedKeyUsage clientAuth). */
  client: IssuedCert;
  /** A server certificate for localhost from another CA nobody trusts. */
  unknownCa: IssuedCert;
  /** A certificate and key in one file (`cert` and `key` are the same path). */
  combined: string;
  remove(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const run = await runCommand('openssl', args, { cwd, timeoutMs: 30_000 });
  if (run.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr}`);
}

const CA_CONFIG = `[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
crlnumber = ./crlnumber
default_md = sha256
default_days = 2
default_crl_days = 2
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
`;

export async function createTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-test-ca-'));
  // The backends' unprivileged users must read their certificates.
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  await writeFile(join(dir, 'crlnumber'), '1000\n');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = async (name: string) => {
    await openssl(
      [
        'req',
        '-x509',
        ...ecKey,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
  };
  await makeCa('ftpx-test-ca');
  await makeCa('ftpx-unknown-ca');
  const issue = async (name: string, subjectAltName: string, usage: string, ca = 'ftpx-test-ca') => {
    await openssl(
      [
        'req',
        '-new',
        ...ecKey,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=${subjectAltName}`,
        '-addext',
        `extendedKeyUsage=${usage}`,
      ],
      dir,
    );
    if (ca === 'ftpx-test-ca') {
      await openssl(
        [
          'ca',
          '-batch',
          '-config',
          'ca.cnf',
          '-cert',
          `${ca}.crt`,
          '-keyfile',
          `${ca}.key`,
          '-in',
          `${name}.csr`,
          '-out',
          `${name}.crt`,
          '-notext',
        ],
        dir,
      );
    } else {
      await openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          `${ca}.crt`,
          '-CAkey',
          `${ca}.key`,
          '-CAcreateserial',
          '-days',
          '2',
          '-copy_extensions',
          'copy',
          '-out',
          `${name}.crt`,
        ],
        dir,
      );
    }
    // ProFTPD and vsftpd read their keys after dropping privileges in some set-ups.
    await chmod(join(dir, `${name}.key`), 0o644);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  const loopback = 'DNS:localhost,IP:127.0.0.1,IP:::1';
  const server = await issue('server', loopback, 'serverAuth');
  const revoked = await issue('revoked', loopback, 'serverAuth');
  const wrongName = await issue('wrong-name', 'DNS:other.example', 'serverAuth');
  const alt = await issue('alt', 'DNS:alt.test', 'serverAuth');
  const client = await issue('client', 'DNS:client.test', 'clientAuth');
  const unknownCa = await issue('unknown-ca', loopback, 'serverAuth', 'ftpx-unknown-ca');
  await openssl(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ftpx-test-ca.crt',
      '-keyfile',
      'ftpx-test-ca.key',
      '-revoke',
      'revoked.crt',
    ],
    dir,
  );
  await openssl(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ftpx-test-ca.crt',
      '-keyfile',
      'ftpx-test-ca.key',
      '-gencrl',
      '-out',
      'ca.crl',
    ],
    dir,
  );
  const combined = join(dir, 'server-combined.pem');
  await writeFile(combined, `${await readFile(server.cert, 'utf8')}${await readFile(server.key, 'utf8')}`);
  return {
    dir,
    caCert: join(dir, 'ftpx-test-ca.crt'),
    crl: join(dir, 'ca.crl'),
    server,
    revoked,
    wrongName,
    alt,
    client,
    unknownCa,
    combined,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
