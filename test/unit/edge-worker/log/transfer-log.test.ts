import { describe, expect, it } from 'vitest';
import { formatXferlogLine } from '../../../../edge-worker/log/transfer-log.js';

describe('xferlog lines', () => {
  const base = {
    finishedAt: new Date(2026, 10, 21, 6, 10, 49),
    durationMs: 1400,
    clientAddress: '192.0.2.7',
    bytes: 19,
    path: '/pub/hello world.txt',
    binary: true,
    direction: 'outgoing' as const,
    user: 'alice',
    completed: true,
  };

  it('writes the fourteen fields of the wu-ftpd format', () => {
    expect(formatXferlogLine(base)).toBe(
      'Sat Nov 21 06:10:49 2026 1 192.0.2.7 19 /pub/hello_world.txt b _ o r alice ftp 0 * c',
    );
  });

  it('marks uploads, ASCII and incomplete transfers, and never writes an empty field', () => {
    const line = formatXferlogLine({
      ...base,
      direction: 'incoming',
      binary: false,
      completed: false,
      durationMs: 10,
      path: '',
    });
    expect(line.split(' ')).toHaveLength(18);
    expect(line).toMatch(/ 1 192\.0\.2\.7 19 - a _ i r alice ftp 0 \* i$/);
  });
});
