import { stringify } from 'yaml';
import type { StackParameters } from './parameters.js';

export type EdgeProtocol = StackParameters['edge']['protocols'][number];

/** The NLB port of each protocol; the task listens on the same port. */
export const PROTOCOL_PORTS: Record<EdgeProtocol, number> = { ftp: 21, ftps: 990, sftp: 22 };

export interface WorkerConfigInput {
  edge: StackParameters['edge'];
  /** The same values the ticket-key rotation schedule sends (functions.ts). */
  tlsCache: StackParameters['tlsCache'];
  /** The VPC's network: the NLB's addresses, the only peers allowed to send a PROXY header. */
  loadBalancerNetwork: string;
}

/**
 * The edge worker's YAML (docs/configuration.md) for an ECS task behind the NLB. The control
 * plane's URL, the masquerade address and the admin endpoint are command-line flags (see
 * edge-service.ts), so this text holds no deploy-time tokens and is the same for every task.
 *
 * Only the FTP listener is written: the worker's configuration has no FTPS (990) or SFTP (22)
 * listener keys yet, so those NLB listeners forward to ports nothing listens on until they exist
 * (infra/README.md, "Not yet").
 */
export function edgeWorkerConfig(input: WorkerConfigInput): Record<string, unknown> {
  const { edge } = input;
  const firstPool = edge.pools[0];
  if (!firstPool) throw new Error('edge.pools is empty');
  const listeners = edge.protocols
    .filter((protocol) => protocol === 'ftp')
    .map((protocol) => ({
      name: protocol,
      address: '0.0.0.0',
      port: PROTOCOL_PORTS[protocol],
      pool: firstPool.name,
      hostPools: edge.pools.slice(1).map((pool) => pool.name),
      passivePorts: { min: edge.passivePorts.min, max: edge.passivePorts.max },
      // Data goes to the task's own address (227), never to the NLB a 229 reply would send it to.
      epsv: false,
      proxyProtocol: { trustedNetworks: [input.loadBalancerNetwork] },
    }));
  return {
    dataDir: '/tmp/ftpx-data',
    log: { level: 'info' },
    listeners,
    pools: edge.pools.map((pool) => ({
      name: pool.name,
      backends: pool.backends,
      connectPolicy: pool.connectPolicy,
      ...(pool.allowDestinationNetworks ? { allowDestinationNetworks: pool.allowDestinationNetworks } : {}),
    })),
    controlPlane: {
      // The URL comes from --control-plane-url; the edge routes are IAM-authorised.
      signing: { service: 'execute-api' },
    },
    // Seconds. The ticket-key schedule creates keys for this period and lifetime, so a worker
    // finds the next key already there.
    tlsCache: {
      sessions: { timeout: input.tlsCache.sessionTimeoutSeconds },
      tickets: { rotateEvery: input.tlsCache.ticketRotateEverySeconds },
    },
  };
}

export function edgeWorkerConfigYaml(input: WorkerConfigInput): string {
  return stringify(edgeWorkerConfig(input));
}
