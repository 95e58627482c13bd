import {
  noQuerySchema,
  poolParamsSchema,
  sshHostKeyPinnedSchema,
  sshHostKeyPinSchema,
} from '../../contract/registry.js';
import { backendKey, parseBackendUrl } from '../../core/backend-url.js';
import { writeSshHostKey } from '../../core/store/index.js';
import { ok, type Route, route } from '../route.js';

/** `PUT /v1/pools/{pool}/ssh-host-keys`: pins the SSH host key an sftp:// backend must present (ProxySFTPVerifyServer). */
export const sshHostKeyRoutes: Route[] = [
  route({
    method: 'PUT',
    path: '/v1/pools/{pool}/ssh-host-keys',
    operationId: 'pinSshHostKey',
    summary: 'Pin the SSH host key of an sftp:// backend (ProxySFTPVerifyServer)',
    tag: 'backends',
    access: { kind: 'pool', scope: 'write' },
    params: poolParamsSchema,
    query: noQuerySchema,
    body: sshHostKeyPinSchema,
    responses: [ok(sshHostKeyPinnedSchema, 'Pinned.')],
    handle: async ({ params, body }, { table, nowMs }) => {
      const parsed = parseBackendUrl(body.backend);
      if (!parsed.ok) throw new Error(parsed.error); // the body schema checked it already
      const backend = backendKey(parsed.url);
      const blob = body.key.split(' ')[1] as string;
      await writeSshHostKey(table, params.pool, backend, blob, { pinned: true, nowMs });
      return { status: 200, body: { backend, key: body.key.split(' ').slice(0, 2).join(' '), pinned: true } };
    },
  }),
];
