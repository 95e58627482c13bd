/**
 * Key builders for the single table. Every entity's key shape is written here once, so the access
 * patterns in functions/README.md can be checked against one file.
 */
export const keys = {
  /** The policy cursor of a pool (RoundRobin): one counter item per pool and policy. */
  policyCursor: (pool: string, policy: string) => ({ pk: `POOL#${pool}`, sk: `CURSOR#${policy}` }),
} as const;
