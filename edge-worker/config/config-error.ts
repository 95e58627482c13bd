/** One problem found in a configuration file, located as precisely as the loader could. */
export interface ConfigIssue {
  /** The file the problem is in (as given, or as reached through Include). */
  file: string;
  /** 1-based line, when the problem belongs to a line. */
  line?: number;
  /** What the problem is about: a native key path such as `listeners[0].port`, or a proftpd.conf directive. */
  key?: string;
  message: string;
}

/** `ftpx.yaml:12: listeners[0].port: Invalid input: expected number, received string`; missing parts are left out. */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) where = where ? `${where}:${issue.line}` : `line ${issue.line}`;
  const parts = [where, issue.key, issue.message].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  return parts.join(': ');
}

/** A configuration that cannot be used. Carries every issue found, not only the first. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super(issues.map(formatIssue).join('\n'), options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * A rejected start or reload's errors, one line each: file:line: key: message for config errors, the
 * message of any other error (a usage error from the command line included).
 */
export function describeConfigFailure(err: unknown): string[] {
  if (err instanceof ConfigError) return err.issues.map(formatIssue);
  return [err instanceof Error ? err.message : String(err)];
}
