import { request } from 'node:http';
import { type AddressInfo, connect, createServer, isIPv4, type Server, type Socket } from 'node:net';

/**
 * A Network Load Balancer's TCP listener on a local port: connections go to the registered task's
 * port with a PROXY protocol v2 header naming the client when the target group says
 * `proxy_protocol_v2.enabled`. The target group's HTTP health check runs on its (accelerated)
 * interval; a deregistered (draining) target gets no new connections, existing ones continue.
 */
export interface TargetGroupSpec {
  logicalId: string;
  proxyProtocolV2: boolean;
  healthCheck: {
    port: number;
    path: string;
    intervalMs: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
  };
  deregistrationDelayMs: number;
}

export type TargetHealth = 'initial' | 'healthy' | 'unhealthy' | 'draining';

export interface LocalTarget {
  address: string;
  port: number;
}

export interface LocalListener {
  port: number;
  localPort: number;
  targetGroup: TargetGroupSpec;
  health(): TargetHealth;
  /** Deregisters the target: no new connections; resolves after the deregistration delay. */
  deregister(): Promise<void>;
  close(): Promise<void>;
}

/** A PROXY protocol v2 header (TCP over IPv4), as an NLB writes it. */
export function proxyV2Header(
  source: { address: string; port: number },
  destination: { address: string; port: number },
): Buffer {
  const signature = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
  const v4 = (address: string) =>
    Buffer.from((isIPv4(address) ? address : '127.0.0.1').split('.').map(Number));
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(source.port, 0);
  ports.writeUInt16BE(destination.port, 2);
  const body = Buffer.concat([v4(source.address), v4(destination.address), ports]);
  const head = Buffer.from([0x21, 0x11, 0, body.length]);
  return Buffer.concat([signature, head, body]);
}

export async function startListener(
  listenerPort: number,
  targetGroup: TargetGroupSpec,
  target: LocalTarget,
  log: (line: string) => void,
): Promise<LocalListener> {
  let health: TargetHealth = 'initial';
  const sockets = new Set<Socket>();
  const check = () => {
    if (health === 'draining') return;
    const req = request(
      {
        host: target.address,
        port: targetGroup.healthCheck.port,
        path: targetGroup.healthCheck.path,
        timeout: 2000,
      },
      (res) => {
        res.resume();
        record(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => record(false));
    req.end();
  };
  let successes = 0;
  let failures = 0;
  const record = (ok: boolean) => {
    if (health === 'draining') return;
    successes = ok ? successes + 1 : 0;
    failures = ok ? 0 : failures + 1;
    if (health !== 'healthy' && successes >= targetGroup.healthCheck.healthyThreshold) {
      health = 'healthy';
      log(`nlb: ${targetGroup.logicalId}: target ${target.address}:${target.port} is healthy`);
    } else if (health !== 'unhealthy' && failures >= targetGroup.healthCheck.unhealthyThreshold) {
      health = 'unhealthy';
      log(`nlb: ${targetGroup.logicalId}: target ${target.address}:${target.port} is unhealthy`);
    }
  };
  const timer = setInterval(check, targetGroup.healthCheck.intervalMs);
  check();

  const server: Server = createServer((client) => {
    if (health === 'draining') {
      client.destroy();
      return;
    }
    sockets.add(client);
    const upstream = connect({ host: target.address, port: target.port });
    sockets.add(upstream);
    upstream.once('connect', () => {
      if (targetGroup.proxyProtocolV2) {
        upstream.write(
          proxyV2Header(
            { address: client.remoteAddress ?? '127.0.0.1', port: client.remotePort ?? 0 },
            { address: client.localAddress ?? '127.0.0.1', port: listenerPort },
          ),
        );
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.once('error', end).once('close', end);
    upstream.once('error', end).once('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: listenerPort,
    localPort: (server.address() as AddressInfo).port,
    targetGroup,
    health: () => health,
    deregister: async () => {
      health = 'draining';
      await new Promise((resolve) => setTimeout(resolve, targetGroup.deregistrationDelayMs));
    },
    close: async () => {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
