import type { z } from 'zod';

/** The event did not match the function's contract. Carries every problem found, by path. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  readonly statusCode = 400;
  constructor(
    readonly issues: { path: string; message: string }[],
    options?: { cause?: unknown },
  ) {
    super(
      `invalid request: ${issues.map((issue) => `${issue.path || '(event)'}: ${issue.message}`).join('; ')}`,
      options,
    );
  }

  static fromZod(error: z.ZodError): InvalidRequestError {
    // An unknown field is reported at its own path, like every other bad field.
    const issues = error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'unknown field' }))
        : [{ path: issue.path.join('.'), message: issue.message }],
    );
    return new InvalidRequestError(issues, { cause: error });
  }
}
