/** A DynamoDB call failed in a way the caller cannot fix by retrying with other input. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
