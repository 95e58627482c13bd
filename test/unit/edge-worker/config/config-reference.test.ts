import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  configReference,
  embedConfigReference,
  REFERENCE_END,
  REFERENCE_START,
} from '../../../../edge-worker/config/reference.js';
import { configSchema } from '../../../../edge-worker/config/schema.js';

describe('ftpx config-reference', () => {
  it('is embedded, up to date, in docs/configuration.md (npm run docs:config-reference)', () => {
    const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toContain(REFERENCE_START);
    expect(doc).toContain(REFERENCE_END);
    expect(embedConfigReference(doc)).toBe(doc);
  });

  it('lists every key a full config can set, with its default and directive', () => {
    const keys = configReference().map((entry) => entry.key);
    // Every top-level key of the schema appears (itself or its children).
    for (const top of Object.keys(configSchema.shape)) {
      expect(keys.some((key) => key === top || key.startsWith(`${top}.`) || key.startsWith(`${top}[]`))).toBe(
        true,
      );
    }
    const byKey = new Map(configReference().map((entry) => [entry.key, entry]));
    expect(byKey.get('pools[].retryCount')).toEqual({
      key: 'pools[].retryCount',
      type: 'number',
      default: '5',
      replaces: 'ProxyRetryCount',
    });
    expect(byKey.get('listeners[].timeouts.idle')).toMatchObject({
      type: 'duration',
      default: '600s',
      replaces: 'TimeoutIdle',
    });
    expect(byKey.get('listeners[].port')?.default).toBe('required');
    expect(byKey.get('log.file')).toMatchObject({ default: '–', replaces: 'ProxyLog' });
  });
});
