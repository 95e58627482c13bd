import middy from '@middy/core';
import {
  type SshHostKeyRequestParsed,
  type SshHostKeyResponse,
  sshHostKeyRequestSchema,
} from '../contract/ssh-host-keys.js';
import { lambdaEntry, tableFromEnv, validateEvent } from '../core/handler/index.js';
import type { Table } from '../core/store/index.js';
import { readSshHostKey, writeSshHostKey } from '../core/store/index.js';

export interface SshHostKeysDeps {
  table: Table;
}

/** Reads or stores a backend's SSH host key (ProxySFTPVerifyServer); see contract/ssh-host-keys.ts. */
export function createSshHostKeysHandler(deps: SshHostKeysDeps) {
  return middy<SshHostKeyRequestParsed, SshHostKeyResponse>()
    .use(validateEvent(sshHostKeyRequestSchema))
    .handler(async (event) => {
      if (event.op === 'get') {
        const stored = await readSshHostKey(deps.table, event.pool, event.backend);
        return stored ? { key: stored.key, pinned: stored.pinned } : { pinned: false };
      }
      const stored = await writeSshHostKey(deps.table, event.pool, event.backend, event.key as string, {
        ifAbsent: event.replace !== true,
      });
      return { key: stored.key, pinned: stored.pinned };
    });
}

/** The Lambda entry point (Powertools logging and metrics). Built on first use so importing this module has no side effects. */
export const handler = lambdaEntry('ssh-host-keys', () =>
  createSshHostKeysHandler({ table: tableFromEnv() }),
);
