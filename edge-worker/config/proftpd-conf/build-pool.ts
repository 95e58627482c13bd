import type { ConfigInput } from '../schema.js';
import { importBackendTls, type Lookup, takeTls } from './build-tls.js';
import { sftpBlock } from './directives/sftp.js';
import { type Backend, type ImportState, type Origin, originOf, type Scope, type Settings } from './state.js';

export type PoolInput = NonNullable<ConfigInput['pools']>[number];

/** Where each part of a built pool came from. */
export interface PoolOrigin {
  server: Origin;
  fields: Record<string, Origin>;
  backends: Origin[];
  /** The directive behind each field of the pool's `sftp` block. */
  sftp?: Record<string, Origin>;
}

/** Pool fields copied from one setting each (the server's own, else <Global>'s). */
const POOL_FIELDS: Array<[keyof Settings, string, (value: never) => unknown]> = [
  ['ProxyDataTransferPolicy', 'dataTransferPolicy', (value: string) => value],
  ['ProxySourceAddress', 'sourceAddress', (value: string) => value],
  ['ForeignDataAddress', 'foreignDataAddress', (value: string) => value],
  ['SendProxyProtocol', 'sendProxyProtocol', (value: string) => value],
  ['ShowFeatures', 'showFeatures', (value: boolean) => value],
  ['DirectDataTransfers', 'directDataTransfers', (value: boolean) => value],
  ['ProxyAuth', 'proxyAuth', (value: boolean) => value],
  ['AuthUserFile', 'authUserFile', (value: string) => value],
  ['AuthGroupFile', 'authGroupFile', (value: string) => value],
  ['IgnoreConfigPerms', 'ignoreConfigPerms', (value: boolean) => value],
  ['ProxyTimeoutLinger', 'lingerTimeout', (value: number) => `${value}ms`],
];

/** One server's pool: its role, backends, connect policy, backend TLS and SFTP, and the rest of its settings. */
export function buildPool(
  state: ImportState,
  scope: Scope,
  server: { name: string; origin: Origin; forward: boolean; backends: Backend[]; tls: Lookup },
): { pool: PoolInput; origin: PoolOrigin } {
  const own = scope.settings;
  const global = state.global.settings;
  const inherited = <K extends keyof Settings>(key: K): Settings[K] => own[key] ?? global[key];
  const { name, forward, backends } = server;
  const role = inherited('ProxyRole');
  const forwardMethod = inherited('ProxyForwardMethod');
  const forwardTo = inherited('ProxyForwardTo');
  const retry = inherited('ProxyRetryCount');
  const timeout = inherited('ProxyTimeoutConnect');
  const policy = inherited('ProxyReverseConnectPolicy');
  const backendTls = takeTls(importBackendTls(server.tls), state.issues);
  const fields: Record<string, Origin> = {};
  const pool: PoolInput = {
    name,
    role: forward ? 'forward' : 'reverse',
    connectPolicy: policy?.value ?? 'RoundRobin',
    backends: backends.map((backend) => backend.url),
    ...(backendTls.value ? { tls: backendTls.value } : {}),
  };
  if (backendTls.origin) fields.tls = backendTls.origin;
  if (forward) {
    pool.forward = {
      ...(forwardMethod ? { method: forwardMethod.value } : {}),
      ...(forwardTo ? { to: forwardTo.value } : {}),
    };
    const origin = forwardTo ?? forwardMethod;
    if (origin) fields.forward = originOf(origin);
  }
  if (own.ServerName) fields.name = originOf(own.ServerName);
  if (own.ServerAlias) {
    pool.hostNames = own.ServerAlias.value;
    fields.hostNames = originOf(own.ServerAlias);
  }
  if (role) fields.role = originOf(role);
  if (policy) fields.connectPolicy = originOf(policy);
  if (retry) {
    pool.retryCount = retry.value;
    fields.retryCount = originOf(retry);
  }
  if (timeout) {
    pool.connectTimeout = `${timeout.value}ms`;
    fields.connectTimeout = originOf(timeout);
  }
  const listPolicy = inherited('ProxyDirectoryListPolicy');
  if (listPolicy) {
    pool.directoryListPolicy = listPolicy.value.policy;
    pool.useSlink = listPolicy.value.useSlink;
    fields.directoryListPolicy = originOf(listPolicy);
    fields.useSlink = originOf(listPolicy);
  }
  for (const [key, field, convert] of POOL_FIELDS) {
    const setting = inherited(key);
    if (!setting) continue;
    (pool as Record<string, unknown>)[field] = convert(setting.value as never);
    fields[field] = originOf(setting);
  }
  if (backends[0]) fields.backends = originOf(backends[0]);
  const poolSftp = sftpBlock(scope.sftp.pool, state.global.sftp.pool);
  if (Object.keys(poolSftp.values).length > 0) {
    pool.sftp = poolSftp.values as never;
    fields.sftp = Object.values(poolSftp.origins)[0] as Origin;
  }
  return {
    pool,
    origin: { server: server.origin, fields, backends: backends.map(originOf), sftp: poolSftp.origins },
  };
}
