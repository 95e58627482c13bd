import { describe, expect, it } from 'vitest';
import { CommandLimits, type LimitRule } from '../../../../../edge-worker/ftp/session/command-limits.js';

const rule = (fields: Partial<LimitRule> & Pick<LimitRule, 'commands'>): LimitRule => ({
  allowUsers: [],
  denyUsers: [],
  allowFrom: [],
  denyFrom: [],
  order: 'allow,deny',
  ...fields,
});

describe('CommandLimits', () => {
  it('allows everything without rules, and never limits the exempt commands', () => {
    expect(new CommandLimits([]).check('DELE', 'alice', '10.0.0.1').allowed).toBe(true);
    const denyAll = new CommandLimits([rule({ commands: ['ALL'], otherwise: 'deny' })]);
    for (const verb of ['USER', 'PASS', 'PASV', 'EPSV', 'PORT', 'EPRT', 'FEAT', 'SYST', 'QUIT']) {
      expect(denyAll.check(verb, 'alice', '10.0.0.1').allowed, verb).toBe(true);
    }
    expect(denyAll.check('RETR', 'alice', '10.0.0.1')).toEqual({ allowed: false, code: 550 });
    expect(denyAll.check('TYPE', 'alice', '10.0.0.1')).toEqual({ allowed: false, code: 501 });
  });

  it('expands command groups and lets the first rule naming a command decide', () => {
    const limits = new CommandLimits([
      rule({ commands: ['DELE'], allowUsers: ['alice'], otherwise: 'deny' }),
      rule({ commands: ['WRITE'], otherwise: 'deny' }),
    ]);
    expect(limits.check('DELE', 'alice', '10.0.0.1').allowed).toBe(true);
    expect(limits.check('STOR', 'alice', '10.0.0.1').allowed).toBe(false);
    expect(limits.check('RETR', 'alice', '10.0.0.1').allowed).toBe(true);
  });

  it('lets a user deny beat a user allow, and checks addresses with Order', () => {
    const users = new CommandLimits([rule({ commands: ['STOR'], allowUsers: ['bob'], denyUsers: ['bob'] })]);
    expect(users.check('STOR', 'bob', '10.0.0.1').allowed).toBe(false);
    const networks = new CommandLimits([
      rule({ commands: ['READ'], allowFrom: ['10.0.0.0/8'], denyFrom: ['10.1.0.0/16'], otherwise: 'deny' }),
    ]);
    expect(networks.check('RETR', undefined, '10.2.0.1').allowed).toBe(true);
    expect(networks.check('RETR', undefined, '10.1.0.1').allowed).toBe(false);
    expect(networks.check('RETR', undefined, '::ffff:10.2.0.1').allowed).toBe(true);
    expect(networks.check('RETR', undefined, '192.0.2.1').allowed).toBe(false);
    const denyFirst = new CommandLimits([
      rule({ commands: ['READ'], allowFrom: ['10.0.0.0/8'], denyFrom: ['10.1.0.0/16'], order: 'deny,allow' }),
    ]);
    expect(denyFirst.check('RETR', undefined, '10.1.0.1').allowed).toBe(true);
  });
});
