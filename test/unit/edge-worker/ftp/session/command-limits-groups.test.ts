import { describe, expect, it } from 'vitest';
import { CommandLimits } from '../../../../../edge-worker/ftp/session/command-limits.js';

const rule = {
  allowUsers: [],
  denyUsers: [],
  allowFrom: [],
  denyFrom: [],
  order: 'allow,deny' as const,
};

describe('CommandLimits group and class rules', () => {
  it('applies DenyGroup to the session groups proxy authentication found, per session', () => {
    const limits = new CommandLimits([{ ...rule, commands: ['LIST'], denyGroups: ['somegroup'] }]);
    let groups: string[] | undefined;
    const session = limits.forSession(() => groups);
    expect(session.check('LIST', 'alice', '127.0.0.1').allowed).toBe(true);
    groups = ['staff', 'somegroup'];
    expect(session.check('LIST', 'alice', '127.0.0.1')).toEqual({ allowed: false, code: 550 });
    expect(session.check('RETR', 'alice', '127.0.0.1').allowed).toBe(true);
    // Another session of the same listener has no groups of its own.
    expect(limits.forSession(() => undefined).check('LIST', 'bob', '127.0.0.1').allowed).toBe(true);
  });

  it('lets AllowGroup and AllowClass open a DenyAll, and DenyClass close an AllowAll', () => {
    const classify = (address: string) => (address === '127.0.0.2' ? 'partners' : undefined);
    const limits = new CommandLimits(
      [
        {
          ...rule,
          commands: ['WRITE'],
          allowGroups: ['writers'],
          allowClasses: ['partners'],
          otherwise: 'deny',
        },
        { ...rule, commands: ['READ'], denyClasses: ['partners'], otherwise: 'allow' },
      ],
      classify,
    );
    const writer = limits.forSession(() => ['writers']);
    const nobody = limits.forSession(() => []);
    expect(writer.check('STOR', 'u', '127.0.0.1').allowed).toBe(true);
    expect(nobody.check('STOR', 'u', '127.0.0.1').allowed).toBe(false);
    expect(nobody.check('STOR', 'u', '127.0.0.2').allowed).toBe(true);
    expect(nobody.check('RETR', 'u', '127.0.0.2').allowed).toBe(false);
    expect(nobody.check('RETR', 'u', '127.0.0.1').allowed).toBe(true);
  });
});
