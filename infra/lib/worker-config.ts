import { stringify } from 'yaml';
import { poolKind, type StackParameters } from './parameters.js';

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
 * Where the container's entrypoint (scripts/container-entrypoint.sh) writes the task's secrets, which
 * ECS hands it as environment variables (edge-secrets.ts): the worker reads files. `/tmp` is the only
 * place the unprivileged worker may write.
 */
export const SECRETS_DIR = '/tmp/ftpx-secrets';
export const SECRET_FILES = {
  tlsCertificate: `${SECRETS_DIR}/tls-certificate.pem`,
  tlsPrivateKey: `${SECRETS_DIR}/tls-private-key.pem`,
  sshHostKey: `${SECRETS_DIR}/ssh_host_ed25519_key`,
} as const;

export interface WorkerConfigInput {
  edge: StackParameters['edge'];
  /** The same values the ticket-key rotation schedule sends (functions.ts). */
  tlsCache: StackParameters['tlsCache'];
  /** The VPC's network: the NLB's addresses, the only peers allowed to send a PROXY header. */
  loadBalancerNetwork: string;
}

/**
 * The edge worker's YAML (docs/configuration.md) for an ECS task behind the NLB. The control
 * plane's URL, the masquerade address and the admin endpoint are command-line flags, the admin token,
 * certificate and host key come as ECS secrets (edge-service.ts), so this text holds no secret and is
 * the same for every task.
 *
 * One listener per protocol: `ftp` on 21 (FTPS by AUTH TLS as well when a certificate is named),
 * `ftps` on 990 (implicit TLS), `sftp` on 22 (the SSH server, its host key from the seed secret).
 */
export function edgeWorkerConfig(input: WorkerConfigInput): Record<string, unknown> {
  const { edge } = input;
  const ftpPools = edge.pools.filter((pool) => poolKind(pool) === 'ftp');
  const sftpPools = edge.pools.filter((pool) => poolKind(pool) === 'sftp');
  const tls = (mode: 'explicit' | 'implicit') => ({
    mode,
    certificates: [{ cert: SECRET_FILES.tlsCertificate, key: SECRET_FILES.tlsPrivateKey }],
  });
  const withCertificate = edge.secrets.tlsCertificate !== undefined;
  const listeners = edge.protocols.map((protocol) => {
    const pools = protocol === 'sftp' ? sftpPools : ftpPools;
    const [first, ...others] = pools;
    if (!first) throw new Error(`edge.protocols has ${protocol} but no pool serves it`);
    const common = {
      name: protocol,
      address: '0.0.0.0',
      port: PROTOCOL_PORTS[protocol],
      pool: first.name,
      proxyProtocol: { trustedNetworks: [input.loadBalancerNetwork] },
    };
    if (protocol === 'sftp') {
      return { ...common, protocol: 'sftp', sftp: { hostKeys: [SECRET_FILES.sshHostKey] } };
    }
    return {
      ...common,
      hostPools: others.map((pool) => pool.name),
      passivePorts: { min: edge.passivePorts.min, max: edge.passivePorts.max },
      // Data goes to the task's own address (227), never to the NLB a 229 reply would send it to.
      epsv: false,
      ...(protocol === 'ftps' ? { tls: tls('implicit') } : withCertificate ? { tls: tls('explicit') } : {}),
    };
  });
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
