import type { ConfigInput } from '../schema.js';
import { buildListeners, type ListenerSet, newListenerSet } from './build-listeners.js';
import { buildPool, type PoolInput, type PoolOrigin } from './build-pool.js';
import {
  type Backend,
  type Conditional,
  describeScope,
  type ImportState,
  type Origin,
  originOf,
  type Scope,
} from './state.js';

type PoolRuleInput = NonNullable<NonNullable<ConfigInput['listeners']>[number]['poolRules']>[number];

/** The server's scope with a mod_ifsession section's directives over its own. */
function withSection(scope: Scope, entry: Conditional, backends: Backend[]): Scope {
  return {
    ...scope,
    settings: { ...scope.settings, ...entry.scope.settings },
    backends: entry.scope.backends.length > 0 ? entry.scope.backends : backends,
    sawBackends: true,
  };
}

/**
 * Each server (the main server and each `<VirtualHost>`) with `ProxyEngine on` becomes one pool and its
 * listeners; the others are reported and left out.
 */
export function buildServers(state: ImportState): {
  pools: PoolInput[];
  poolOrigins: PoolOrigin[];
  listeners: ListenerSet;
} {
  const { issues } = state;
  const pools: PoolInput[] = [];
  const poolOrigins: PoolOrigin[] = [];
  const listeners = newListenerSet();
  const poolNames = new Map<string, string>();
  const global = state.global.settings;
  let proxies = 0;
  let unsure = 0;

  for (const scope of [state.main, ...state.vhosts]) {
    const own = scope.settings;
    const label = describeScope(scope);
    const serverLoc: Origin = scope.section
      ? { ...scope.section.loc, key: label }
      : { file: state.file, key: label };
    const port = own.Port?.value ?? 21;
    if (port === 0) continue; // `Port 0` disables a server, as in ProFTPD.
    const engine = own.ProxyEngine ?? global.ProxyEngine;
    if (!engine && (scope.sawEngine || state.global.sawEngine)) {
      unsure++; // its ProxyEngine line is already reported as an error
      continue;
    }
    if (!engine?.value) {
      const where = scope.section ? serverLoc : engine ? originOf(engine) : serverLoc;
      issues.warn(where, label, 'not a proxy (ProxyEngine is not on); ftpx does not serve it');
      continue;
    }
    proxies++;
    const serverOrigin: Origin = scope.section ? serverLoc : { ...originOf(engine), key: label };

    const role = own.ProxyRole ?? global.ProxyRole;
    const forward = role?.value === 'forward';
    const forwardMethod = own.ProxyForwardMethod ?? global.ProxyForwardMethod;
    const forwardTo = own.ProxyForwardTo ?? global.ProxyForwardTo;
    const backends = forward
      ? []
      : scope.backends.length > 0 || scope.sawBackends
        ? scope.backends
        : state.global.backends;
    if (forward && (scope.sawBackends || state.global.sawBackends)) {
      const first = scope.backends[0] ?? state.global.backends[0];
      issues.warn(
        first ? originOf(first) : serverOrigin,
        'ProxyReverseServers',
        `ignored for ${label}: it applies to ProxyRole reverse only`,
      );
    }
    if (!forward) {
      for (const setting of [forwardMethod, forwardTo]) {
        if (setting)
          issues.warn(
            originOf(setting),
            setting.name,
            `ignored for ${label}: applies to ProxyRole forward only`,
          );
      }
    }
    if (forward && scope.conditionals.length > 0) {
      const first = scope.conditionals[0] as Conditional;
      issues.warn(
        { ...first.loc, key: first.tag },
        label,
        'ignored: pool sections apply to ProxyRole reverse only',
      );
    }
    const conditionals = forward ? [] : scope.conditionals;
    // Sessions no section matches use the server's own backends; without them, an `<IfClass !name>`
    // section (which matches every such session) serves as the server's pool.
    const fallback =
      !forward && backends.length === 0
        ? [...conditionals]
            .reverse()
            .find(
              (entry) =>
                entry.condition === 'class' &&
                entry.names[0]?.startsWith('!') &&
                entry.scope.backends.length > 0,
            )
        : undefined;
    if (!forward && backends.length === 0 && !fallback) {
      if (conditionals.some((entry) => entry.scope.backends.length > 0)) {
        issues.error(
          serverOrigin,
          label,
          'ProxyReverseServers is required outside <IfClass>/<IfUser>/<IfGroup> too, for the sessions no section matches (or give them an <IfClass !name> section)',
        );
      } else if (!scope.sawBackends && !state.global.sawBackends) {
        issues.error(serverOrigin, label, 'ProxyReverseServers is required for a reverse proxy');
      }
      continue;
    }

    const addresses = scope.section ? scope.section.args : (own.DefaultAddress?.value ?? ['0.0.0.0']);
    const baseName = own.ServerName?.value ?? (scope.section ? `${addresses[0]}:${port}` : 'main');
    let name = baseName;
    for (let suffix = 2; poolNames.has(name); suffix++) name = `${baseName}#${suffix}`;
    if (name !== baseName) {
      const where = own.ServerName ? originOf(own.ServerName) : serverOrigin;
      issues.warn(
        where,
        label,
        `pool name "${baseName}" is already used by ${poolNames.get(baseName)}; this server's pool is named "${name}"`,
      );
    }
    poolNames.set(name, `${label} (${serverOrigin.file}${serverOrigin.line ? `:${serverOrigin.line}` : ''})`);

    const tls = (directive: string) => scope.tls.get(directive) ?? state.global.tls.get(directive);
    const built = fallback
      ? buildPool(state, withSection(scope, fallback, backends), {
          name,
          origin: serverOrigin,
          forward,
          backends: fallback.scope.backends,
          tls,
        })
      : buildPool(state, scope, { name, origin: serverOrigin, forward, backends, tls });
    pools.push(built.pool);
    poolOrigins.push(built.origin);
    // Each section is a pool of its own; mod_ifsession applies every matching section in order, the
    // later ones overriding, so the rules (first match wins) list the sections last first.
    const poolRules: PoolRuleInput[] = [];
    for (const entry of [...conditionals].reverse()) {
      let poolName = name;
      if (entry !== fallback) {
        const own = entry.scope.backends.length > 0 ? entry.scope.backends : backends;
        poolName = `${name} ${entry.tag}`;
        const derived = buildPool(state, withSection(scope, entry, backends), {
          name: poolName,
          origin: { ...entry.loc, key: entry.tag },
          forward,
          backends: own,
          tls,
        });
        pools.push(derived.pool);
        poolOrigins.push(derived.origin);
      }
      poolRules.push(
        entry.condition === 'class'
          ? { pool: poolName, class: entry.names[0] as string }
          : { pool: poolName, [entry.condition]: entry.names },
      );
    }
    buildListeners(state, scope, listeners, {
      pool: name,
      label,
      origin: serverOrigin,
      port,
      addresses,
      tls,
      ...(poolRules.length > 0 ? { poolRules } : {}),
    });
  }

  if (proxies === 0 && unsure === 0) {
    issues.error(
      { file: state.file },
      undefined,
      'no server has ProxyEngine on: ftpx would have nothing to serve',
    );
  }
  return { pools, poolOrigins, listeners };
}
