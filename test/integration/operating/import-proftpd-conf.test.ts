import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../../edge-worker/config/config-error.js';
import { parseYamlConfig } from '../../../edge-worker/config/load-yaml.js';
import { proftpdConfToYaml } from '../../../edge-worker/config/proftpd-conf/to-yaml.js';
import { parseProftpdConfig } from '../../../edge-worker/config/proftpd-conf.js';
import { cliPath } from '../../support/proxy-process.js';

const SEED = '/work/shared/seeds/003_24299b24956c7dba.txt';

/**
 * The example configurations of the mod_proxy documentation (the seed document), as a user would
 * paste them: every `<IfModule mod_proxy.c>` block. The docs elide with "..." or ".." (a line of its
 * own, or after a backend list): those elisions are dropped.
 */
function seedExamples(text: string): { line: number; conf: string }[] {
  const lines = text.split('\n');
  const examples: { line: number; conf: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)<IfModule mod_proxy\.c>\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1] ?? '';
    const end = lines.findIndex((line, j) => j > i && line === `${indent}</IfModule>`);
    if (end < 0) continue;
    const body = lines
      .slice(i, end + 1)
      .map((line) => line.slice(indent.length).replace(/\s+\.\.\.\s*$/, ''))
      .filter((line) => !/^\s*\.{2,3}\s*$/.test(line));
    examples.push({ line: i + 1, conf: `${body.join('\n')}\n` });
  }
  return examples;
}

describe('ftpx import-proftpd-conf on the mod_proxy documentation examples', () => {
  let dir: string;
  let examples: { line: number; conf: string }[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-import-'));
    examples = seedExamples(await readFile(SEED, 'utf8'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('agrees with check-config on every example, and what it prints loads as the same configuration', async () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
    const converted: number[] = [];
    const refused: number[] = [];
    for (const example of examples) {
      const conf = join(dir, `example-${example.line}.conf`);
      await writeFile(conf, example.conf);
      const what = `seed example at line ${example.line}:\n${example.conf}`;
      let checked: ReturnType<typeof parseProftpdConfig>;
      try {
        checked = parseProftpdConfig(conf);
      } catch (err) {
        // Refused (what ftpx does not support yet, or what the flattened document lost): refused
        // alike, with the same errors, each naming the file.
        expect(err, what).toBeInstanceOf(ConfigError);
        const issues = (err as ConfigError).issues.map(formatIssue);
        let again: unknown;
        try {
          proftpdConfToYaml(conf);
        } catch (error) {
          again = error;
        }
        expect(again, what).toBeInstanceOf(ConfigError);
        expect((again as ConfigError).issues.map(formatIssue), what).toEqual(issues);
        expect(
          issues.every((issue) => issue.startsWith(conf)),
          what,
        ).toBe(true);
        refused.push(example.line);
        continue;
      }
      converted.push(example.line);
      const yaml = proftpdConfToYaml(conf);
      expect(yaml, what).toMatch(/^# ftpx configuration imported from /);
      // Warnings (what was not carried over) are comments naming file and line.
      for (const warning of checked.warnings) expect(yaml, what).toContain(`#   ${formatIssue(warning)}`);
      // Loaded from another directory, the YAML is the same configuration.
      const fromYaml = parseYamlConfig(join(dir, 'elsewhere', `example-${example.line}.yaml`), yaml).config;
      expect(fromYaml, what).toEqual(checked.config);
    }
    // The reverse proxy examples with RoundRobin and with PerUser %U files convert today.
    expect(converted.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThan(0);

    // The command itself, as users run it: `ftpx import-proftpd-conf proftpd.conf > ftpx.yaml`.
    const good = join(dir, `example-${converted[0]}.conf`);
    const printed = run('import-proftpd-conf', good);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toBe(proftpdConfToYaml(good));
    const bad = join(dir, `example-${refused[0]}.conf`);
    const failed = run('import-proftpd-conf', bad);
    expect(failed.status).toBe(2);
    expect(failed.stderr).toBe(run('check-config', '--proftpd-conf', bad).stderr);
    expect(failed.stderr).toMatch(/ftpx: invalid configuration:\n {2}\S+example-\d+\.conf:\d+: /);
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
