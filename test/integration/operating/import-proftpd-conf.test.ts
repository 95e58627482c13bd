import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../../edge-worker/config/config-error.js';
import { parseYamlConfig } from '../../../edge-worker/config/load-yaml.js';
import { proftpdConfToYaml } from '../../../edge-worker/config/proftpd-conf/to-yaml.js';
import { parseProftpdConfig } from '../../../edge-worker/config/proftpd-conf.js';
import { cliPath } from '../../support/proxy-process.js';

const EXAMPLES = fileURLToPath(new URL('../../fixtures/mod_proxy-doc-examples/', import.meta.url));

/**
 * The examples of the mod_proxy and mod_tls_shmcache documentation, one file each (the file names the
 * page and section it comes from; where the docs elide with "...", lines marked "ftpx test context"
 * stand in). Every one loads, except the two that need mod_sql and host keys kept in an ssh-agent,
 * which ftpx refuses with a reason (docs/configuration.md lists them).
 */
const REFUSED: Record<string, RegExp> = {
  'sftp-hostkey-agent.conf':
    /agent: keys are not supported: ssh2 signs host keys and hostbased requests synchronously/,
  'reverse-servers-sql.conf': /backend lists from SQL queries \(sql:\) are not supported by ftpx/,
  'faq-client-certificate-sql.conf': /backend lists from SQL queries \(sql:\) are not supported by ftpx/,
};

/** The issues of the ConfigError `fn` throws. */
function configIssues(fn: () => unknown): ConfigError['issues'] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('ftpx import-proftpd-conf on the mod_proxy documentation examples', () => {
  let dir: string;
  let examples: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-import-'));
    examples = (await readdir(EXAMPLES)).filter((name) => name.endsWith('.conf')).sort();
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('loads every example as printed, and what it prints loads as the same configuration', async () => {
    expect(examples.length).toBeGreaterThanOrEqual(40);
    const notLoaded: string[] = [];
    for (const name of examples) {
      const conf = join(EXAMPLES, name);
      const text = await readFile(conf, 'utf8');
      expect(text, name).toMatch(
        /^# From the mod_(proxy|tls_shmcache) documentation, http:\/\/www\.proftpd\.org\/docs\/contrib\//,
      );
      const refusal = REFUSED[name];
      if (refusal) {
        // Refused alike by check-config and the import, with the same errors, each naming the file.
        const issues = configIssues(() => parseProftpdConfig(conf)).map(formatIssue);
        expect(issues.join('\n'), name).toMatch(refusal);
        expect(configIssues(() => proftpdConfToYaml(conf)).map(formatIssue), name).toEqual(issues);
        expect(
          issues.every((issue) => issue.startsWith(conf)),
          name,
        ).toBe(true);
        continue;
      }
      let checked: ReturnType<typeof parseProftpdConfig>;
      try {
        checked = parseProftpdConfig(conf);
      } catch (err) {
        notLoaded.push(
          err instanceof ConfigError ? err.issues.map(formatIssue).join('\n') : `${name}: ${err}`,
        );
        continue;
      }
      const yaml = proftpdConfToYaml(conf);
      expect(yaml, name).toMatch(/^# ftpx configuration imported from /);
      // Warnings (what was not carried over) are comments naming file and line.
      for (const warning of checked.warnings) expect(yaml, name).toContain(`#   ${formatIssue(warning)}`);
      // Loaded from another directory, the YAML is the same configuration.
      const fromYaml = parseYamlConfig(join(dir, 'elsewhere', `${name}.yaml`), yaml).config;
      expect(fromYaml, name).toEqual(checked.config);
    }
    expect(notLoaded).toEqual([]);

    // The command itself, as users run it: `ftpx import-proftpd-conf proftpd.conf > ftpx.yaml`.
    const good = join(EXAMPLES, 'usage-reverse.conf');
    const printed = run('import-proftpd-conf', good);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toBe(proftpdConfToYaml(good));
    const bad = join(EXAMPLES, 'reverse-servers-sql.conf');
    const failed = run('import-proftpd-conf', bad);
    expect(failed.status).toBe(2);
    expect(failed.stderr).toBe(run('check-config', '--proftpd-conf', bad).stderr);
    expect(failed.stderr).toMatch(/ftpx: invalid configuration:\n {2}\S+reverse-servers-sql\.conf:\d+: /);
  });

  it('turns directives it cannot carry over into comments', async () => {
    const conf = join(dir, 'with-notes.conf');
    await writeFile(
      conf,
      [
        'ServerType standalone',
        'User nobody',
        'TraceLog /var/log/ftpx/trace.log',
        'Trace proxy.ftp.ctrl:20',
        '<IfModule mod_proxy.c>',
        '  ProxyEngine on',
        '  ProxyRole reverse',
        '  ProxyTables /var/ftp/proxy',
        '  ProxyReverseConnectPolicy LeastConns',
        '  ProxyReverseServers ftp://10.0.0.1:21 ftp://10.0.0.2:21',
        '</IfModule>',
        '',
      ].join('\n'),
    );
    const result = run('import-proftpd-conf', conf);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`#   ${conf}:1: ServerType:`);
    expect(result.stdout).toContain(`#   ${conf}:2: User:`);
    const config = parseYamlConfig(join(dir, 'x.yaml'), result.stdout).config;
    expect(config.pools[0]).toMatchObject({
      connectPolicy: 'LeastConns',
      backends: ['ftp://10.0.0.1:21', 'ftp://10.0.0.2:21'],
    });
    expect(config.log).toMatchObject({
      traceFile: '/var/log/ftpx/trace.log',
      traces: { 'proxy.ftp.ctrl': 20 },
    });
    expect(config.dataDir).toBe('/var/ftp/proxy');
  });
});
