import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigInput, configSchema } from '../../edge-worker/config/schema.js';
import { Logger } from '../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';

export interface TestProxy {
  host: string;
  port: number;
  worker: RunningEdgeWorker;
  /** Every log line the proxy wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, to check that no secret ever reached it. */
  logText(): string;
  close(): Promise<void>;
}

export interface TestProxyOptions {
  backends: string[];
  retryCount?: number;
  connectTimeout?: string;
  /** Share another worker's store instead of starting an embedded one. */
  storeEndpoint?: string;
  pool?: string;
  dataConnectTimeout?: string;
  /** More listener settings, as in the YAML config. */
  listener?: Record<string, unknown>;
  /** More pool settings, as in the YAML config. */
  poolSettings?: Record<string, unknown>;
  /** Listen here instead of 127.0.0.1. */
  address?: string;
  /** Write an xferlog here. */
  transferLog?: string;
  /** More pools, e.g. for the listener's hostPools. */
  extraPools?: Record<string, unknown>[];
  /** The identity hook for proxy authentication. */
  identityHook?: Record<string, unknown>;
  /** `<Class>` sections (forward proxying: who may use it). */
  classes?: Record<string, unknown>[];
  /** More top-level settings, as in the YAML config (e.g. `dns`, `health`). */
  settings?: Record<string, unknown>;
}

/** Starts an edge worker in this process on a free loopback port, with its log captured. */
export async function startTestProxy(options: TestProxyOptions): Promise<TestProxy> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ftpx-proxy-'));
  const pool = options.pool ?? 'test';
  const input: ConfigInput = {
    ...(options.settings as Partial<ConfigInput>),
    dataDir,
    ...(options.transferLog ? { transferLog: options.transferLog } : {}),
    ...(options.identityHook ? { identityHook: options.identityHook as ConfigInput['identityHook'] } : {}),
    store: options.storeEndpoint ? { endpoint: options.storeEndpoint } : { endpoint: 'embedded' },
    listeners: [
      {
        address: options.address ?? '127.0.0.1',
        port: 0,
        pool,
        ...(options.dataConnectTimeout ? { dataConnectTimeout: options.dataConnectTimeout } : {}),
        ...options.listener,
      },
    ],
    pools: [
      {
        name: pool,
        backends: options.backends,
        ...(options.retryCount ? { retryCount: options.retryCount } : {}),
        ...(options.connectTimeout ? { connectTimeout: options.connectTimeout } : {}),
        ...options.poolSettings,
      },
      ...((options.extraPools ?? []) as NonNullable<ConfigInput['pools']>),
    ],
    ...(options.classes ? { classes: options.classes as NonNullable<ConfigInput['classes']> } : {}),
  };
  const config = configSchema.parse(input);
  const lines: string[] = [];
  const log = new Logger({ write: (line) => lines.push(line) }, 'debug');
  const worker = await startEdgeWorker(config, log);
  const listener = worker.listeners[0];
  if (!listener) throw new Error('proxy has no listener');
  return {
    host: options.address ?? '127.0.0.1',
    port: listener.port,
    worker,
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join(''),
    close: async () => {
      await worker.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
