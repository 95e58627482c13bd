import { afterAll, expect, it } from 'vitest';
import { type NetFtpReply, type NetFtpStepResult, suiteMessage } from '../support/net-ftp.js';

/** A scenario of mod_proxy's suite that this file does not run, and why (docs/conformance.md lists them). */
export interface Unrun {
  scenario: string;
  reason: string;
}

type Outcome = 'pass' | 'fail';

/**
 * The scenarios of one group of mod_proxy's regression suite (named as its Perl tests are) and how each
 * fared here. Prints the table when the file ends: pass / FAIL / awaiting fix / left out, with reasons.
 */
export class ConformanceTable {
  private readonly outcomes = new Map<string, Outcome>();
  private readonly order: string[] = [];

  constructor(
    private readonly group: string,
    /** Scenarios written but failing today because of a known, tracked finding: not run. */
    private readonly awaitingFix: readonly Unrun[],
    /** Scenarios that make no sense for ftpx (mod_proxy internals, the internet): not run. */
    private readonly leftOut: readonly Unrun[],
    /**
     * Scenarios where ftpx differs from mod_proxy: run with `deliberate`, asserting what ftpx does
     * instead (a todo until then).
     */
    private readonly differs: readonly Unrun[] = [],
  ) {
    afterAll(() => this.print());
  }

  /** One vitest test per suite scenario; scenarios listed as awaiting a fix are recorded, not run. */
  scenario(
    name: string,
    body: () => Promise<void>,
    timeoutMs?: number,
    /** A second attempt, for a scenario with a known intermittent failure the note of its call names. */
    retry?: 1,
  ): void {
    this.order.push(name);
    const parked = [...this.awaitingFix, ...this.differs].find((entry) => entry.scenario === name);
    if (parked) {
      // Listed, not run (the file's table says why): a todo keeps it visible in vitest's own report.
      it.todo(`${name}: ${parked.reason}`);
      return;
    }
    this.run(name, name, body, timeoutMs, retry);
  }

  /**
   * A scenario listed in `differs`: its body asserts what ftpx does instead of what the suite
   * expects, so that the difference stays exactly as documented.
   */
  deliberate(name: string, body: () => Promise<void>, timeoutMs?: number): void {
    const listed = this.differs.find((entry) => entry.scenario === name);
    if (!listed) throw new Error(`${name} is not listed as a difference`);
    this.order.push(name);
    this.run(name, `${name} (differs: ftpx's own answer)`, body, timeoutMs);
  }

  /** One vitest test whose outcome the table records under the scenario's name. */
  private run(
    name: string,
    title: string,
    body: () => Promise<void>,
    timeoutMs?: number,
    retry?: number,
  ): void {
    it(title, {
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
      ...(retry ? { retry } : {}),
    }, async () => {
      try {
        await body();
        this.outcomes.set(name, 'pass');
      } catch (error) {
        this.outcomes.set(name, 'fail');
        throw error;
      }
    });
  }

  private print(): void {
    const rows: [string, string][] = [];
    for (const name of this.order) {
      const awaiting = this.awaitingFix.find((entry) => entry.scenario === name);
      const differs = this.differs.find((entry) => entry.scenario === name);
      if (awaiting) rows.push([name, `awaiting fix: ${awaiting.reason}`]);
      else if (differs)
        rows.push([
          name,
          this.outcomes.get(name) === 'fail'
            ? 'fail (ftpx no longer answers as documented)'
            : `differs: ${differs.reason}`,
        ]);
      else
        rows.push([
          name,
          this.outcomes.get(name) === 'pass' ? 'pass' : (this.outcomes.get(name) ?? 'not run'),
        ]);
    }
    for (const entry of this.awaitingFix.filter((e) => !this.order.includes(e.scenario)))
      rows.push([entry.scenario, `awaiting fix: ${entry.reason}`]);
    for (const entry of this.differs.filter((e) => !this.order.includes(e.scenario)))
      rows.push([entry.scenario, `differs: ${entry.reason}`]);
    for (const entry of this.leftOut) rows.push([entry.scenario, `left out: ${entry.reason}`]);
    const width = Math.max(...rows.map(([name]) => name.length));
    const count = (prefix: string) => rows.filter(([, state]) => state.startsWith(prefix)).length;
    const lines = [
      `mod_proxy conformance, ${this.group}: ${count('pass')} pass, ${count('fail')} fail, ${count('awaiting')} awaiting fix, ${count('differs')} differ, ${count('left out')} left out`,
      ...rows.map(([name, state]) => `  ${name.padEnd(width)}  ${state}`),
    ];
    console.log(lines.join('\n'));
  }
}

/** The suite's check of a reply: the code, and the message as ProFTPD's test client reads it. */
export function expectReply(
  reply: Partial<NetFtpReply> | undefined,
  code: number,
  message?: string | RegExp,
): void {
  expect(`${reply?.code} ${suiteMessage(reply)}`).toMatch(
    message === undefined
      ? new RegExp(`^${code} `)
      : typeof message === 'string'
        ? new RegExp(`^${code} ${escapeRegExp(message)}$`)
        : new RegExp(`^${code} ${message.source}`),
  );
}

/** assert_transfer_ok of ProFTPD's suite: `226 Transfer complete` (or `226 Abort successful` when aborted). */
export function expectTransferOk(step: NetFtpStepResult | undefined, aborted = false): void {
  expect(step?.error).toBeUndefined();
  expectReply(step, 226, aborted ? 'Abort successful' : 'Transfer complete');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
