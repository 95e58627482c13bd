import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as registry from '../../functions/contract/registry.js';
import { FUZZ_PARAMETERS } from './fuzz-support.js';

/** Every request schema of the registry API: bodies, path parameters and queries a tenant sends. */
const schemas = Object.entries(registry as Record<string, unknown>).filter(
  (entry): entry is [string, { safeParse: (value: unknown) => { success: boolean } }] =>
    entry[0].endsWith('Schema') && typeof (entry[1] as { safeParse?: unknown }).safeParse === 'function',
);

describe('registry API payloads (zod contracts, fuzzed)', () => {
  it('has request schemas to fuzz', () => {
    expect(schemas.length).toBeGreaterThan(10);
  });

  it('every schema answers success or a zod issue list for any JSON value, never a throw', () => {
    const json = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.dictionary(
        fc.constantFrom(
          'name',
          'backends',
          'url',
          'weight',
          'pool',
          'id',
          'user',
          'password',
          'scopes',
          'enabled',
        ),
        fc.jsonValue({ maxDepth: 3 }),
      ),
    );
    fc.assert(
      fc.property(json, (value) => {
        for (const [, schema] of schemas) {
          const result = schema.safeParse(value);
          expect(typeof result.success).toBe('boolean');
        }
      }),
      FUZZ_PARAMETERS,
    );
  });
});
