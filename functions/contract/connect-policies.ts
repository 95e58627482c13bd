/**
 * mod_proxy's connect policies (ProxyReverseConnectPolicy), spelled as mod_proxy documents them.
 * The balancing ones choose among all backends per session; the sticky ones map a key (user name,
 * group name, client address) to one backend.
 */
export const CONNECT_POLICIES = [
  'Random',
  'RoundRobin',
  'Shuffle',
  'LeastConns',
  'LeastResponseTime',
  'PerUser',
  'PerGroup',
  'PerHost',
] as const;

export type ConnectPolicy = (typeof CONNECT_POLICIES)[number];

export const STICKY_POLICIES = ['PerUser', 'PerGroup', 'PerHost'] as const satisfies readonly ConnectPolicy[];

export type StickyPolicy = (typeof STICKY_POLICIES)[number];

export function isStickyPolicy(policy: string): policy is StickyPolicy {
  return (STICKY_POLICIES as readonly string[]).includes(policy);
}

/** What the sticky key of each sticky policy is, for error messages and docs. */
export const STICKY_KEY_MEANING: Record<StickyPolicy, string> = {
  PerUser: 'the user name',
  PerGroup: "the user's primary group name",
  PerHost: 'the client IP address',
};
