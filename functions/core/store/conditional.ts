/** Whether a DynamoDB call failed only because its condition expression was false. */
export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * A random pause before retrying an optimistic write that lost a race ("full jitter"): uniform in
 * [0, ceiling) with the ceiling doubling from 4 ms up to 100 ms, so callers that collided spread out
 * instead of colliding again.
 */
export function backoff(attempt: number, random: () => number = Math.random): Promise<void> {
  const ceiling = Math.min(100, 4 * 2 ** Math.max(0, attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.floor(random() * ceiling)));
}
