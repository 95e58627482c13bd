import { describe, expect, it } from 'vitest';
import { sftpPoolSchema } from '../../../../edge-worker/config/sftp-schema.js';

describe('ProxySFTPOptions (pools[].sftp.options)', () => {
  it('accepts every option mod_proxy documents', () => {
    const all = [
      'AllowWeakDH',
      'NoExtensionNegotiation',
      'NoHostkeyRotation',
      'NoStrictKex',
      'OldProtocolCompat',
      'PessimisticKexinit',
    ];
    expect(sftpPoolSchema.parse({ options: all }).options).toEqual(all);
  });

  it('refuses an unknown option, naming the known ones', () => {
    const unknown = sftpPoolSchema.safeParse({ options: ['Bogus'] });
    const message = unknown.success ? '' : (unknown.error.issues[0]?.message ?? '');
    expect(message).toContain('unknown ProxySFTPOptions "Bogus"');
    expect(message).toContain('NoStrictKex');
  });
});
