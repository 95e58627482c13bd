import type { ConfigInput } from '../schema.js';
import { importFrontendTls, type Lookup, takeTls } from './build-tls.js';
import { sftpBlock } from './directives/sftp.js';
import {
  type ImportState,
  type LimitSetting,
  type Origin,
  originOf,
  type Scope,
  type Setting,
  type Settings,
} from './state.js';

type ListenerInput = NonNullable<ConfigInput['listeners']>[number];

/** Where each part of a built listener came from. */
export interface ListenerOrigin {
  address: Origin;
  port: Origin;
  fields: Record<string, Origin>;
  sftp?: Record<string, Origin>;
}

/** The listeners built so far, and the endpoints they hold (for "already used by"). */
export interface ListenerSet {
  listeners: ListenerInput[];
  origins: ListenerOrigin[];
  bound: Map<string, string>;
  /** The listener serving each endpoint, by its position in `listeners`. */
  indexes: Map<string, number>;
}

export const newListenerSet = (): ListenerSet => ({
  listeners: [],
  origins: [],
  bound: new Map(),
  indexes: new Map(),
});

/** Listener fields copied from one setting each (the server's own, else <Global>'s). */
const LISTENER_FIELDS = [
  ['PassivePorts', 'passivePorts'],
  ['MasqueradeAddress', 'masqueradeAddress'],
  ['AllowForeignAddress', 'allowForeignAddress'],
  ['MaxLoginAttempts', 'maxLoginAttempts'],
  ['TransferRate', 'transferRate'],
  ['TCPBackLog', 'backlog'],
] as const satisfies ReadonlyArray<readonly [keyof Settings, string]>;

const TIMEOUTS = [
  ['TimeoutLogin', 'login'],
  ['TimeoutIdle', 'idle'],
  ['TimeoutNoTransfer', 'noTransfer'],
  ['TimeoutStalled', 'stalled'],
] as const satisfies ReadonlyArray<readonly [keyof Settings, string]>;

const CONNECTION_LIMITS = [
  ['MaxClients', 'maxClients'],
  ['MaxClientsPerHost', 'maxClientsPerHost'],
  ['MaxClientsPerUser', 'maxClientsPerUser'],
  ['MaxConnectionsPerHost', 'maxConnectionsPerHost'],
  ['MaxHostsPerUser', 'maxHostsPerUser'],
  ['MaxInstances', 'maxInstances'],
] as const satisfies ReadonlyArray<readonly [keyof Settings, string]>;

/** The client-facing settings of one server (its own, else <Global>'s), as listener fields. */
function listenerSettings(
  state: ImportState,
  own: Settings,
  global: Settings,
  limits: Setting<LimitSetting>[],
): { values: Record<string, unknown>; fields: Record<string, Origin> } {
  const values: Record<string, unknown> = {};
  const fields: Record<string, Origin> = {};
  for (const [key, field] of LISTENER_FIELDS) {
    const setting = own[key] ?? global[key];
    if (!setting) continue;
    values[field] = setting.value;
    fields[field] = originOf(setting);
  }
  const foreign = own.AllowForeignAddress ?? global.AllowForeignAddress;
  if (foreign && typeof foreign.value === 'object') {
    // `AllowForeignAddress <class>`: the hosts of that class (mod_core, ProFTPD 1.3.6 and later).
    const { className } = foreign.value;
    const found = state.classes.find((entry) => entry.name === className);
    if (found) values.allowForeignAddress = found.from;
    else {
      state.issues.error(
        foreign.loc,
        foreign.name,
        `"${className}" is neither on/off nor a <Class> defined in this file`,
      );
      delete values.allowForeignAddress;
    }
  }
  // A server's own <Limit> sections come first, then <Global>'s: the first rule naming a command decides.
  if (limits.length > 0) {
    values.limits = limits.map((limit) => limit.value);
    fields.limits = originOf(limits[0] as Setting<LimitSetting>);
  }
  const timeouts: Record<string, string> = {};
  for (const [key, name] of TIMEOUTS) {
    const setting = own[key] ?? global[key];
    if (!setting) continue;
    timeouts[name] = `${setting.value}ms`;
    fields.timeouts = originOf(setting);
  }
  if (Object.keys(timeouts).length > 0) values.timeouts = timeouts;
  const connections: Record<string, unknown> = {};
  for (const [key, name] of CONNECTION_LIMITS) {
    const setting = own[key] ?? global[key];
    if (!setting || setting.value === null) continue;
    connections[name] = setting.value;
    fields.connections = originOf(setting);
  }
  const perClass = classLimits(state, own, global);
  if (perClass) {
    connections.maxClientsPerClass = perClass.value;
    fields.connections = perClass.origin;
  }
  if (Object.keys(connections).length > 0) values.connections = connections;
  return { values, fields };
}

/**
 * MaxClientsPerClass lines of a server and of <Global> (the server's own line wins for its class),
 * each naming a `<Class>` of this file; `none` lifts a class's limit.
 */
function classLimits(
  state: ImportState,
  own: Settings,
  global: Settings,
): { value: { class: string; max: number; message?: string }[]; origin: Origin } | undefined {
  const ownEntries = own.MaxClientsPerClass?.value ?? [];
  const named = new Set(ownEntries.map((entry) => entry.className));
  const entries = [
    ...ownEntries,
    ...(global.MaxClientsPerClass?.value ?? []).filter((entry) => !named.has(entry.className)),
  ];
  const setting = own.MaxClientsPerClass ?? global.MaxClientsPerClass;
  if (!setting || entries.length === 0) return undefined;
  const value: { class: string; max: number; message?: string }[] = [];
  for (const entry of entries) {
    if (!state.classes.some((found) => found.name === entry.className)) {
      const known = state.classes.map((found) => found.name).join(', ') || 'none';
      state.issues.error(
        entry.loc,
        setting.name,
        `"${entry.className}" is not a <Class> defined in this file (classes: ${known})`,
      );
      continue;
    }
    if (entry.limit) value.push({ class: entry.className, ...entry.limit });
  }
  return value.length > 0 ? { value, origin: originOf(setting) } : undefined;
}

/**
 * `<Limit>` group rules where the groups are never known: without UseReverseProxyAuth mod_proxy does
 * not authenticate, so AllowGroup/DenyGroup match no one and ProFTPD loads them all the same
 * (mod_proxy's proxy_reverse_limit_list_deny_group). They are dropped with a warning, and a `<Limit>`
 * left with no rule at all goes with them, so that the next rule naming its commands decides.
 */
function withoutUnknownGroups(
  state: ImportState,
  limits: Setting<LimitSetting>[],
  proxyAuth: boolean,
): Setting<LimitSetting>[] {
  if (proxyAuth) return limits;
  const kept: Setting<LimitSetting>[] = [];
  for (const limit of limits) {
    const { allowGroups, denyGroups, ...rest } = limit.value;
    if (!allowGroups && !denyGroups) {
      kept.push(limit);
      continue;
    }
    state.issues.warn(
      limit.loc,
      limit.name,
      'AllowGroup/DenyGroup without ProxyOptions UseReverseProxyAuth match no one (the groups are known only after proxy authentication, as in mod_proxy): ignored',
    );
    const hasRule =
      rest.allowUsers.length + rest.denyUsers.length + rest.allowFrom.length + rest.denyFrom.length > 0 ||
      (rest.allowClasses?.length ?? 0) + (rest.denyClasses?.length ?? 0) > 0 ||
      rest.otherwise !== undefined;
    if (hasRule) kept.push({ ...limit, value: rest });
  }
  return kept;
}

/**
 * One server's listeners, one per address, all on its port, serving pool `server.pool`: FTPS from
 * mod_tls, SSH when `SFTPEngine on`, a <VirtualHost>'s own ProxyLog as its log file.
 */
export function buildListeners(
  state: ImportState,
  scope: Scope,
  set: ListenerSet,
  server: {
    pool: string;
    label: string;
    origin: Origin;
    port: number;
    addresses: readonly string[];
    tls: Lookup;
    /** mod_ifsession sections as pool rules. */
    poolRules?: NonNullable<ListenerInput['poolRules']>;
  },
): void {
  const own = scope.settings;
  const proxyAuth = (own.ProxyAuth ?? state.global.settings.ProxyAuth)?.value === true;
  const extras = listenerSettings(
    state,
    own,
    state.global.settings,
    withoutUnknownGroups(state, [...scope.limits, ...state.global.limits], proxyAuth),
  );
  if (server.poolRules) {
    extras.values.poolRules = server.poolRules;
    extras.fields.poolRules = server.origin;
  }
  const frontendTls = takeTls(importFrontendTls(server.tls), state.issues);
  if (frontendTls.value) {
    const cache = state.main.settings.TLSSessionCache ?? state.global.settings.TLSSessionCache;
    // mod_tls: `TLSSessionCache off` turns NoSessionReuseRequired on (nothing to reuse from).
    if (cache?.value.off && frontendTls.value.sessionReuseRequired === undefined) {
      frontendTls.value.sessionReuseRequired = false;
    }
    extras.values.tls = frontendTls.value;
    if (frontendTls.origin) extras.fields.tls = frontendTls.origin;
  }
  // A <VirtualHost>'s own ProxyLog becomes its listeners' own log (listeners[].logFile).
  const vhostLog = scope.section ? own.ProxyLog : undefined;
  if (vhostLog && vhostLog.value === null) {
    state.issues.warn(
      originOf(vhostLog),
      vhostLog.name,
      "none in a <VirtualHost>: its sessions log to the main server's log (a listener's log cannot be turned off alone)",
    );
  }
  if (vhostLog && vhostLog.value !== null) {
    extras.values.logFile = vhostLog.value;
    extras.fields.logFile = originOf(vhostLog);
  }
  let listenerSftp: Record<string, Origin> | undefined;
  const sftpEngine = scope.sftp.listener.get('engine') ?? state.global.sftp.listener.get('engine');
  if (sftpEngine?.value === true) {
    // SFTPEngine on: an SSH listener with mod_sftp's settings (docs/sftp.md).
    const block = sftpBlock(scope.sftp.listener, state.global.sftp.listener);
    extras.values.protocol = 'sftp';
    extras.values.sftp = block.values;
    extras.fields.protocol = originOf(sftpEngine);
    extras.fields.sftp = originOf(sftpEngine);
    listenerSftp = block.origins;
  }
  const addressOrigin = scope.section
    ? server.origin
    : own.DefaultAddress
      ? originOf(own.DefaultAddress)
      : server.origin;
  const portOrigin = own.Port ? originOf(own.Port) : server.origin;
  for (const address of server.addresses) {
    const endpoint = `${address.includes(':') ? `[${address}]` : address}:${server.port}`;
    const previous = set.bound.get(endpoint);
    if (previous) {
      const first = set.listeners[set.indexes.get(endpoint) ?? -1];
      if (first && scope.section && first.protocol !== 'sftp' && extras.values.protocol !== 'sftp') {
        // Name-based virtual hosts (ProFTPD 1.3.6+): a second server on the same address and port is
        // reached with HOST naming its ServerName or a ServerAlias.
        first.hostPools = [...(first.hostPools ?? []), server.pool];
        state.issues.warn(
          addressOrigin,
          server.label,
          `name-based virtual host on ${endpoint} (served by ${previous}): clients reach it with HOST <its ServerName or ServerAlias>; the connection settings (TLS, timeouts, <Limit>) stay those of the first server`,
        );
        continue;
      }
      state.issues.error(addressOrigin, server.label, `${endpoint} is already used by ${previous}`);
      continue;
    }
    set.indexes.set(endpoint, set.listeners.length);
    set.bound.set(
      endpoint,
      `${server.label} (${addressOrigin.file}${addressOrigin.line ? `:${addressOrigin.line}` : ''})`,
    );
    set.listeners.push({ address, port: server.port, pool: server.pool, ...extras.values } as ListenerInput);
    set.origins.push({
      address: addressOrigin,
      port: portOrigin,
      fields: extras.fields,
      ...(listenerSftp ? { sftp: listenerSftp } : {}),
    });
  }
}
