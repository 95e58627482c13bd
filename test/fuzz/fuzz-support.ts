import fc from 'fast-check';

/**
 * Runs are bounded in count and time so the whole fuzz project stays well under a minute on the
 * shared 2-core machine; a failure prints fast-check's seed and shrunk counterexample to replay.
 */
export const FUZZ_PARAMETERS: fc.Parameters<unknown> = { numRuns: 300, interruptAfterTimeLimit: 4000 };

/** Bytes shaped like hostile input: random, and mutations of a valid sample (flipped, cut, spliced). */
export function hostileBytes(samples: readonly (Buffer | string)[], maxLength = 2048): fc.Arbitrary<Buffer> {
  const valid = samples.map((sample) => Buffer.from(sample as string, 'latin1'));
  const random = fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes));
  const mutated = fc
    .tuple(
      fc.constantFrom(...valid),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([sample, flips, cut, tail]) => {
      const bytes = Buffer.from(sample);
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
      return Buffer.concat([bytes.subarray(0, bytes.length === 0 ? 0 : cut % (bytes.length + 1)), tail]);
    });
  return fc.oneof(random, mutated, fc.constantFrom(...valid));
}

/** Runs `parse`; a throw must be one of `allowed` (the parser's own typed errors), nothing else. */
export function returnsOrThrowsTyped<T>(
  parse: () => T,
  ...allowed: (abstract new (
    ...args: never[]
  ) => Error)[]
): void {
  try {
    parse();
  } catch (err) {
    if (allowed.some((type) => err instanceof type)) return;
    throw new Error(`untyped throw: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, {
      cause: err,
    });
  }
}
