import { describe, expect, it } from 'vitest';
import { AuthChains, authChainProblem } from '../../../../edge-worker/sftp/auth-chains.js';

describe('SFTPAuthMethods chains', () => {
  it('offers the first methods, then what follows the passed ones, and knows a complete chain', () => {
    const chains = new AuthChains(
      ['publickey+password', 'hostbased', 'publickey+keyboard-interactive'],
      () => true,
    );
    expect(chains.next()).toEqual(['publickey', 'hostbased']);
    expect(chains.completes('hostbased')).toBe(true);
    expect(chains.completes('publickey')).toBe(false);
    chains.pass('publickey');
    expect(chains.complete).toBe(false);
    expect(chains.next()).toEqual(['password', 'keyboard-interactive']);
    expect(chains.completes('password')).toBe(true);
    chains.pass('password');
    expect(chains.complete).toBe(true);
    expect(chains.next()).toEqual([]);
  });

  it('drops a whole chain with a method the listener cannot check', () => {
    const chains = new AuthChains(['hostbased+password', 'password'], (method) => method !== 'hostbased');
    expect(chains.next()).toEqual(['password']);
    expect(chains.completes('password')).toBe(true);
  });

  it('names what is wrong with an entry', () => {
    expect(authChainProblem('publickey+password')).toBeUndefined();
    expect(authChainProblem('publickey+gssapi-with-mic')).toMatch(
      /"gssapi-with-mic" is not an authentication method/,
    );
    expect(authChainProblem('password+password')).toBe('"password+password" names a method twice');
    expect(authChainProblem('')).toMatch(/"" is not an authentication method/);
  });
});
