import cluster from 'node:cluster';
import { KICK_REPLY } from '../admin/admin-server.js';
import type { SessionSummary } from '../admin/session-registry.js';
import { backendStatuses } from '../admin/status-snapshot.js';
import { describeConfigFailure } from '../config/config-error.js';
import { lifecycleOf } from '../config/schema.js';
import { createIpcControlPlane, primaryEndpoint } from '../control-plane/ipc-transport.js';
import type { Logger } from '../log/logger.js';
import { createServiceLogger } from '../log/service-logger.js';
import { DRAIN_DEADLINE_REPLY, type RunningEdgeWorker, startEdgeWorker } from '../runtime/edge-worker.js';
import { stopTracing } from '../tracing/tracing-from-env.js';
import { returnMemory } from './memory-return.js';
import { releaseYoungGeneration } from './memory-settings.js';
import { type FromWorker, isToWorker, type ToWorker, type WorkerStatus } from './messages.js';

/**
 * A worker process of `ftpx serve --workers N`: waits for its configuration from the primary (with
 * its slice of every passive port range; the control plane is the primary's, over this same IPC
 * channel, unless the config names one by controlPlane.url), runs
 * an edge worker, and answers the primary's reload, drain and admin requests. Signals sent to the
 * whole process group are handled as the primary handles them: SIGTERM / SIGINT drain, SIGHUP is left
 * to the primary (which re-reads the config once and hands it to every worker).
 */
export async function runClusterWorker(): Promise<number> {
  const send = (message: FromWorker) => {
    if (process.connected) process.send?.(message);
  };
  let worker: RunningEdgeWorker | undefined;
  let log: Logger | undefined;
  let sinkClose: (() => Promise<void>) | undefined;
  let draining: Promise<void> | undefined;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  // One drain, however many ask for it: a SIGTERM to the whole process group (systemd's
  // KillMode=control-group, `kill -TERM -PGID`) reaches this process and the primary at once, and the
  // primary then asks again by message. Only a request to hurry (a second signal here, or the
  // primary's drain with no time left) cuts the sessions short.
  const drain = (timeoutMs: number) => {
    if (!worker) {
      resolveDone(0);
      return;
    }
    if (draining) {
      if (timeoutMs === 0) worker.sessions.closeAll(DRAIN_DEADLINE_REPLY);
      return;
    }
    send({ type: 'draining' });
    const running = worker;
    draining = running.drain(timeoutMs).then(async ({ closedAtDeadline }) => {
      log?.info('worker stopped', { closedAtDeadline });
      await sinkClose?.();
      resolveDone(0);
    });
  };
  let stopSignals = 0;
  const onStopSignal = () => {
    stopSignals += 1;
    drain(stopSignals === 1 ? drainTimeoutMs : 0);
  };
  let drainTimeoutMs = 30_000;
  const onMessage = async (message: ToWorker) => {
    switch (message.type) {
      case 'start': {
        const { config } = message;
        drainTimeoutMs = lifecycleOf(config).drainTimeout;
        const service = createServiceLogger(config.log, message.logLevel);
        sinkClose = service.close;
        log = service.log.child({
          worker: cluster.worker?.id,
          slot: message.slot,
        });
        try {
          worker = await startEdgeWorker(
            config,
            log,
            message.controlPlaneOverIpc
              ? {
                  controlPlane: createIpcControlPlane(primaryEndpoint(), {
                    log: log.child({ component: 'control-plane' }),
                  }),
                }
              : {},
          );
          send({ type: 'listening', listeners: worker.listeners });
          releaseYoungGeneration();
          // Start-up (~500 modules, the configuration) leaves garbage in the old generation that no collection
          // reaches before the first sessions; collected now, it costs no session a pause (bench/README.md,
          // "Before sessions, measured exactly": heap in use 25.4 → 22.4 MiB primary, 18.1 → 15.5 worker).
          returnMemory();
        } catch (err) {
          send({ type: 'start-failed', error: describeConfigFailure(err).join('; ') });
          resolveDone(1);
        }
        return;
      }
      case 'reload': {
        if (!worker) return;
        try {
          const { notApplied } = await worker.reload(message.config);
          send({ type: 'reloaded', id: message.id, ok: true, errors: [], notApplied });
        } catch (err) {
          worker.metrics.reloads.inc({ result: 'rejected' });
          send({
            type: 'reloaded',
            id: message.id,
            ok: false,
            errors: describeConfigFailure(err),
            notApplied: [],
          });
        }
        return;
      }
      case 'drain':
        drain(message.timeoutMs);
        return;
      case 'kick':
        send({
          type: 'admin-reply',
          id: message.id,
          result: worker?.sessions.kick(message.session, KICK_REPLY) ?? false,
        });
        return;
      case 'admin': {
        if (!worker) return;
        const result =
          message.op === 'metrics'
            ? await worker.metrics.snapshot()
            : message.op === 'sessions'
              ? sessionsOf(worker)
              : ({
                  ready: worker.ready,
                  backends: backendStatuses(worker.pools(), worker.metrics),
                  sessions: sessionsOf(worker),
                  throughput: worker.sessions.throughput.series(),
                } satisfies WorkerStatus);
        send({ type: 'admin-reply', id: message.id, result });
        return;
      }
    }
  };
  process.on('message', (message: unknown) => {
    if (isToWorker(message)) {
      onMessage(message).catch((err: unknown) => log?.error('worker message failed', { error: err }));
    }
  });
  send({ type: 'hello' });
  // SIGHUP belongs to the primary; its default action would end this process.
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  // The primary went away (killed): nothing would ever tell this worker to stop. While draining
  // already, this changes nothing.
  process.on('disconnect', () => {
    if (!draining) drain(drainTimeoutMs);
  });
  const code = await done;
  await stopTracing();
  process.exit(code);
}

/** This process's sessions, each marked with the process that owns it. */
function sessionsOf(worker: RunningEdgeWorker): SessionSummary[] {
  return worker.sessions.list().map((session) => ({ ...session, worker: process.pid }));
}
