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
