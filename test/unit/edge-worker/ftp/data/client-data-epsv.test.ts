import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { FtpCommand } from '../../../../../edge-worker/ftp/control/command-parser.js';
import {
  type ClientDataOptions,
  checkClientDataCommand,
} from '../../../../../edge-worker/ftp/data/client-data.js';
import { silentLogger } from '../../../../../edge-worker/log/logger.js';

/** `epsv: false` (a listener behind a load balancer): EPSV is refused so that clients use PASV. */
function options(epsv: boolean | undefined): ClientDataOptions {
  return {
    control: { localAddress: '10.40.3.17' } as Socket,
    clientAddress: '203.0.113.9',
    portRange: undefined,
    masqueradeIPv4: '198.51.100.20',
    allowsForeignAddress: () => false,
    epsv,
    dataConnectTimeoutMs: 1000,
    log: silentLogger,
  };
}

const command = (line: string): FtpCommand => {
  const [verb = '', ...rest] = line.split(' ');
  return { verb, arg: rest.join(' ') };
};

describe('listener epsv: false', () => {
  it('answers 502 to every form of EPSV, and still serves PASV', () => {
    for (const line of ['EPSV', 'EPSV 1', 'EPSV ALL']) {
      expect(checkClientDataCommand(command(line), false, options(false))).toMatchObject({ code: 502 });
    }
    expect(checkClientDataCommand(command('PASV'), false, options(false))).toEqual({
      kind: 'passive',
      verb: 'PASV',
    });
  });

  it('serves EPSV when absent or true', () => {
    for (const epsv of [undefined, true]) {
      expect(checkClientDataCommand(command('EPSV'), false, options(epsv))).toEqual({
        kind: 'passive',
        verb: 'EPSV',
      });
    }
  });
});
