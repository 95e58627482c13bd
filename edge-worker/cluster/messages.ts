import type { MetricsSnapshot } from '../admin/edge-metrics.js';
import type { SessionSummary } from '../admin/session-registry.js';
import type { BackendStatus, StatusSnapshot } from '../admin/status-snapshot.js';
import type { FtpxConfig } from '../config/schema.js';
import type { ListeningAddress } from '../listeners/ftp-listener.js';
import type { LogLevel } from '../log/logger.js';

/**
 * What the cluster primary tells a worker process (over the IPC channel node:cluster sets up). The
 * control-plane calls and replies share the channel but are their own messages (ipc-transport.ts).
 */
export type ToWorker =
  | {
      type: 'start';
      config: FtpxConfig;
      logLevel: LogLevel | undefined;
      slot: number;
      /**
       * The primary's embedded control plane answers over this channel (control-plane/ipc-transport.ts);
       * false: the config's controlPlane.url.
       */
      controlPlaneOverIpc: boolean;
    }
  | { type: 'reload'; config: FtpxConfig; id: number }
  | { type: 'drain'; timeoutMs: number }
  | { type: 'admin'; id: number; op: 'metrics' | 'sessions' | 'status' }
  | { type: 'kick'; id: number; session: string };

/** What the part of a worker's status the primary merges. */
export interface WorkerStatus {
  ready: boolean;
  backends: BackendStatus[];
  sessions: SessionSummary[];
  throughput: StatusSnapshot['throughput'];
}

export type FromWorker =
  /** The worker listens for messages now (messages sent before would be lost). */
  | { type: 'hello' }
  | { type: 'listening'; listeners: ListeningAddress[] }
  | { type: 'start-failed'; error: string }
  | { type: 'reloaded'; id: number; ok: boolean; errors: string[]; notApplied: string[] }
  | { type: 'draining' }
  | {
      type: 'admin-reply';
      id: number;
      result: MetricsSnapshot | SessionSummary[] | WorkerStatus | boolean;
    };

export function isFromWorker(message: unknown): message is FromWorker {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string'
  );
}

export function isToWorker(message: unknown): message is ToWorker {
  return isFromWorker(message);
}
