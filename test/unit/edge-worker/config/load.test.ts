import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../edge-worker/config/load.js';
import { configIssues, lines, tempDir } from './helpers.js';

describe('loadConfig', () => {
  it('reads a YAML file from disk', () => {
    const dir = tempDir({
      'ftpx.yaml': lines(
        'listeners: [{ port: 2100, pool: p }]',
        'pools: [{ name: p, backends: ["ftp://b:21"] }]',
      ),
    });
    const file = join(dir, 'ftpx.yaml');
    const loaded = loadConfig({ kind: 'yaml', file });
    expect(loaded.source).toEqual({ kind: 'yaml', file });
    expect(loaded.config.listeners[0]?.port).toBe(2100);
    expect(loaded.config.dataDir).toBe(join(dir, 'data'));
  });

  it('reads a proftpd.conf from disk', () => {
    const dir = tempDir({
      'proftpd.conf': lines('ProxyEngine on', 'ProxyTLSEngine off', 'ProxyReverseServers ftp://10.0.0.1'),
    });
    const file = join(dir, 'proftpd.conf');
    const loaded = loadConfig({ kind: 'proftpd', file });
    expect(loaded.source).toEqual({ kind: 'proftpd', file });
    expect(loaded.config.pools[0]?.backends).toEqual(['ftp://10.0.0.1']);
  });

  it('turns a missing file into a ConfigError with the OS reason', () => {
    const file = join(tempDir(), 'missing.yaml');
    for (const kind of ['yaml', 'proftpd'] as const) {
      expect(configIssues(() => loadConfig({ kind, file }))).toEqual([
        { file, message: 'cannot read the configuration file: no such file or directory (ENOENT)' },
      ]);
    }
  });

  it('turns a directory into a ConfigError', () => {
    const dir = tempDir();
    const issues = configIssues(() => loadConfig({ kind: 'yaml', file: dir }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.file).toBe(dir);
    expect(issues[0]?.message).toMatch(/^cannot read the configuration file: .*\(EISDIR\)$/);
  });
});
