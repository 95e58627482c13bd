import { describe, expect, it } from 'vitest';
import { parseYamlConfig } from '../../../../edge-worker/config/load-yaml.js';
import { configIssues, lines } from './helpers.js';

/** The YAML of the connection limits and bans: what is refused at load, at its key and line. */
describe('YAML connection limits', () => {
  const withClassLimits = (...entries: string[]) =>
    lines(
      'classes:', // 1
      '  - { name: staff, from: [127.0.0.2/32] }', // 2
      'listeners:', // 3
      '  - port: 2100', // 4
      '    pool: p', // 5
      '    connections:', // 6
      '      maxClientsPerClass:', // 7
      ...entries, // 8...
      'pools: [{ name: p, backends: ["ftp://127.0.0.1:21"] }]',
    );

  it('reads maxClientsPerClass, one entry per class with its count and optional message', () => {
    const { config } = parseYamlConfig(
      'ftpx.yaml',
      withClassLimits('        - { class: staff, max: 3, message: "Staff full (%m)" }'),
    );
    expect(config.listeners[0]?.connections.maxClientsPerClass).toEqual([
      { class: 'staff', max: 3, message: 'Staff full (%m)' },
    ]);
  });

  it('refuses a class that is not defined, and a class limited twice, at their keys', () => {
    const issues = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        withClassLimits(
          '        - { class: staf, max: 3 }', // 8
          '        - { class: staff, max: 1 }', // 9
          '        - { class: staff, max: 2 }', // 10
        ),
      ),
    );
    expect(issues).toEqual([
      {
        file: 'ftpx.yaml',
        line: 8,
        key: 'listeners[0].connections.maxClientsPerClass[0].class',
        message: 'no class named "staf" (classes: staff)',
      },
      {
        file: 'ftpx.yaml',
        line: 10,
        key: 'listeners[0].connections.maxClientsPerClass[2].class',
        message: 'class "staff" is limited twice',
      },
    ]);
  });
});

describe('YAML ban rules', () => {
  const withRule = (rule: string) =>
    lines(
      'listeners: [{ port: 2100, pool: p }]', // 1
      'pools: [{ name: p, backends: ["ftp://127.0.0.1:21"] }]', // 2
      'bans:', // 3
      '  rules:', // 4
      rule, // 5
    );

  it('refuses at load a window or duration the store would refuse, saying that a bare number is seconds', () => {
    const tooLong = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        withRule('    - { event: MaxLoginAttempts, count: 3, window: 10m, duration: 40000000 }'),
      ),
    );
    expect(tooLong).toEqual([
      {
        file: 'ftpx.yaml',
        line: 5,
        key: 'bans.rules[0].duration',
        message:
          'must be from 1s to 366 days, got 40000000 s (463 days); a bare number is seconds: write e.g. 10m or 1h',
      },
    ]);
    const tooShort = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        withRule('    - { event: MaxLoginAttempts, count: 3, window: 500ms, duration: 1h }'),
      ),
    );
    expect(tooShort).toEqual([
      {
        file: 'ftpx.yaml',
        line: 5,
        key: 'bans.rules[0].window',
        message: 'must be from 1s to 366 days, got 500 ms; a bare number is seconds: write e.g. 10m or 1h',
      },
    ]);
  });

  it('keeps a rule within range, a bare number as seconds', () => {
    const { config } = parseYamlConfig(
      'ftpx.yaml',
      withRule('    - { event: MaxLoginAttempts, count: 3, window: 600, duration: 366 }'),
    );
    expect(config.bans?.rules).toEqual([
      { event: 'MaxLoginAttempts', count: 3, window: 600_000, duration: 366_000 },
    ]);
  });

  it('refuses a count above what the store counts', () => {
    const issues = configIssues(() =>
      parseYamlConfig(
        'ftpx.yaml',
        withRule('    - { event: MaxLoginAttempts, count: 2000000, window: 10m, duration: 1h }'),
      ),
    );
    expect(issues.map((issue) => [issue.line, issue.key])).toEqual([[5, 'bans.rules[0].count']]);
  });
});
