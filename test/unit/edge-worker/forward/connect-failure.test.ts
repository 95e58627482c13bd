import { describe, expect, it } from 'vitest';
import { connectFailureReason } from '../../../../edge-worker/forward/forward-connect.js';
import { BackendConnectError } from '../../../../edge-worker/ftp/control/backend-connect.js';

describe('connect failures in words for the client', () => {
  const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:2121`), { code });

  it('names the system error found anywhere in the cause chain', () => {
    const wrapped = new BackendConnectError(
      '127.0.0.1:2121: backend control connection: connect ECONNREFUSED',
      {
        cause: new Error('backend control connection', { cause: systemError('ECONNREFUSED') }),
      },
    );
    expect(connectFailureReason(wrapped)).toBe('Connection refused');
    expect(connectFailureReason(systemError('EHOSTUNREACH'))).toBe('No route to host');
    expect(connectFailureReason(systemError('ENETUNREACH'))).toBe('Network is unreachable');
  });

  it("words backend-connect's own timeouts and a greeting that is not 2xx", () => {
    expect(connectFailureReason(new BackendConnectError('connect to 10.0.0.1:21 timed out'))).toBe(
      'Connection timed out',
    );
    expect(connectFailureReason(new BackendConnectError('banner from 10.0.0.1:21 timed out'))).toBe(
      'No greeting within ProxyTimeoutConnect',
    );
    expect(
      connectFailureReason(new BackendConnectError('127.0.0.1:21 greeted with 421 Too many connections')),
    ).toBe('Server greeted with 421 Too many connections');
    expect(connectFailureReason(new Error('something else'))).toBe('something else');
  });
});
