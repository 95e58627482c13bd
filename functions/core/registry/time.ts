/** Times in API replies: ISO 8601 in UTC, from the store's epoch milliseconds. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** The common fields of every versioned item, as the API shows them. */
export function versionedView(record: { createdAt: number; updatedAt: number; version: number }) {
  return {
    createdAt: isoTime(record.createdAt),
    updatedAt: isoTime(record.updatedAt),
    version: record.version,
  };
}
