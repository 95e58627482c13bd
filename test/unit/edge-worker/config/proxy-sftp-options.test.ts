import { describe, expect, it } from 'vitest';
import { sftpPoolSchema } from '../../../../edge-worker/config/sftp-schema.js';

describe('ProxySFTPOptions (pools[].sftp.options)', () => {
  it('accepts what ssh2 honours: AllowWeakDH, NoHostkeyRotation, OldProtocolCompat, PessimisticKexinit', () => {
    const all = ['AllowWeakDH', 'NoHostkeyRotation', 'OldProtocolCompat', 'PessimisticKexinit'];
    expect(sftpPoolSchema.parse({ options: all }).options).toEqual(all);
  });

  it('refuses each other option with its own reason', () => {
    for (const [option, reason] of [
      ['NoExtensionNegotiation', 'ext-info-c'],
      ['NoStrictKex', 'kex-strict-c-v00@openssh.com'],
    ]) {
      const parsed = sftpPoolSchema.safeParse({ options: [option] });
      expect(parsed.success, option).toBe(false);
      const message = parsed.success ? '' : (parsed.error.issues[0]?.message ?? '');
      expect(message).toContain(`ProxySFTPOptions ${option} cannot be applied`);
      expect(message).toContain(reason);
    }
    const unknown = sftpPoolSchema.safeParse({ options: ['Bogus'] });
    expect(unknown.success ? '' : unknown.error.issues[0]?.message).toContain(
      'unknown ProxySFTPOptions "Bogus"',
    );
  });
});
