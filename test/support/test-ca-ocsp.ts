import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './ports.js';
import { type ServerProcess, spawnServer } from './process.js';
import { runCommand } from './run-command.js';

/**
 * A throw-away certificate authority made with the openssl command line, for OCSP stapling tests:
 * a root CA, a delegated OCSP signing certificate, and server certificates whose AIA names an OCSP
 * responder on loopback (`openssl ocsp`, started and stopped by the test). The revocation state
 * lives in an `openssl ca`-style index file the responder reads.
 */
export interface TestCaOcsp {
  dir: string;
  caPem: string;
  /** The responder's URL as written in the certificates' AIA extension. */
  ocspUrl: string;
  /** Issues a server certificate (EC P-256) for CN `name`, with the AIA OCSP URL (and must-staple if asked). */
  issue(
    name: string,
    options?: { mustStaple?: boolean; ocspUrl?: string | null },
  ): Promise<IssuedCertificate>;
  /** Marks a certificate revoked in the index (restart the responder to apply: it reads the index at start). */
  revoke(certificate: IssuedCertificate): Promise<void>;
  /** Starts `openssl ocsp` on the URL's port; `nextUpdateMinutes` sets the responses' nextUpdate. */
  startResponder(options?: { nextUpdateMinutes?: number }): Promise<ServerProcess>;
  close(): Promise<void>;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
  /** Upper-case hex, as openssl prints it. */
  serial: string;
}

async function openssl(args: string[], cwd: string): Promise<string> {
  const result = await runCommand('openssl', args, { cwd, timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.toString('utf8');
}

export async function createTestCaOcsp(): Promise<TestCaOcsp> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpx-test-ca-ocsp-'));
  const port = await freePort();
  const ocspUrl = `http://127.0.0.1:${port}`;
  const index = join(dir, 'index.txt');
  await writeFile(index, '');
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=ftpx test CA',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  let serial = 0x1000;
  const sign = async (name: string, extensions: string[]) => {
    serial += 1;
    const base = join(dir, name.replace(/[^A-Za-z0-9.-]/g, '_'));
    await openssl(
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${base}.key`,
        '-out',
        `${base}.csr`,
        '-subj',
        `/CN=${name}`,
      ],
      dir,
    );
    await writeFile(`${base}.ext`, `${extensions.join('\n')}\n`);
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${serial.toString(16)}`,
        '-days',
        '1',
        '-out',
        `${base}.crt`,
        '-extfile',
        `${base}.ext`,
      ],
      dir,
    );
    const text = await openssl(
      ['x509', '-in', `${base}.crt`, '-noout', '-serial', '-enddate', '-subject', '-nameopt', 'compat'],
      dir,
    );
    const serialHex = /serial=([0-9A-F]+)/.exec(text)?.[1] ?? '';
    const end = new Date(/notAfter=(.+)/.exec(text)?.[1] ?? '');
    const subject = /subject=\s*(.+)/.exec(text)?.[1]?.trim() ?? '';
    return { base, serialHex, end, subject };
  };
  const ocspSigner = await sign('ftpx test OCSP responder', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=OCSPSigning',
  ]);
  const entries = new Map<string, string>();
  const writeIndex = () => writeFile(index, [...entries.values()].join(''));
  const stamp = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;
  const responders: ServerProcess[] = [];

  const ca: TestCaOcsp = {
    dir,
    caPem: await readFile(join(dir, 'ca.crt'), 'utf8'),
    ocspUrl,
    async issue(name, options = {}) {
      const url = options.ocspUrl === undefined ? ocspUrl : options.ocspUrl;
      const extensions = [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=DNS:${name},IP:127.0.0.1`,
        ...(url ? [`authorityInfoAccess=OCSP;URI:${url}`] : []),
        ...(options.mustStaple ? ['tlsfeature=status_request'] : []),
      ];
      const signed = await sign(name, extensions);
      const serialText = signed.serialHex.length % 2 === 0 ? signed.serialHex : `0${signed.serialHex}`;
      entries.set(serialText, `V\t${stamp(signed.end)}\t\t${serialText}\tunknown\t${signed.subject}\n`);
      await writeIndex();
      return {
        certPem: await readFile(`${signed.base}.crt`, 'utf8'),
        keyPem: await readFile(`${signed.base}.key`, 'utf8'),
        certFile: `${signed.base}.crt`,
        keyFile: `${signed.base}.key`,
        serial: serialText,
      };
    },
    async revoke(certificate) {
      const line = entries.get(certificate.serial);
      if (!line) throw new Error(`serial ${certificate.serial} was not issued here`);
      const [, expiry, , serialText, file, subject] = line.trimEnd().split('\t');
      entries.set(
        certificate.serial,
        `R\t${expiry}\t${stamp(new Date())}\t${serialText}\t${file}\t${subject}\n`,
      );
      await writeIndex();
    },
    async startResponder(options = {}) {
      const workDir = await mkdtemp(join(tmpdir(), 'ftpx-ocsp-responder-'));
      const process = spawnServer(
        'openssl',
        [
          'ocsp',
          '-index',
          index,
          '-port',
          String(port),
          '-rsigner',
          `${ocspSigner.base}.crt`,
          '-rkey',
          `${ocspSigner.base}.key`,
          '-CA',
          join(dir, 'ca.crt'),
          '-nmin',
          String(options.nextUpdateMinutes ?? 60),
        ],
        workDir,
      );
      responders.push(process);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const output = await readFile(process.outputFile, 'utf8').catch(() => '');
        if (output.includes('waiting for OCSP client connections')) return process;
        const status = process.exitStatus();
        if (status) throw new Error(`openssl ocsp exited (${status}): ${output}`);
        if (Date.now() > deadline) throw new Error(`openssl ocsp did not start: ${output}`);
        await delay(50);
      }
    },
    async close() {
      await Promise.all(responders.map((responder) => responder.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  return ca;
}
