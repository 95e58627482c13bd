import cluster, { type Worker } from 'node:cluster';
import { Counter, Gauge, Registry } from 'prom-client';
import { type AdminSource, KICK_REPLY, startAdminServer } from '../admin/admin-server.js';
import type { MetricsSnapshot } from '../admin/edge-metrics.js';
import { processMetricsRegistry } from '../admin/process-metrics.js';
import type { SessionSummary } from '../admin/session-registry.js';
import { mergeBackendStatuses, mergeThroughput } from '../admin/status-snapshot.js';
import { describeConfigFailure } from '../config/config-error.js';
import { type FtpxConfig, lifecycleOf } from '../config/schema.js';
import { answerControlPlaneCalls, workerEndpoint } from '../control-plane/ipc-transport.js';
import type { ListeningAddress } from '../listeners/ftp-listener.js';
import { type LogLevel, silentLogger } from '../log/logger.js';
import { createServiceLogger } from '../log/service-logger.js';
import { loadPool, type Pool } from '../reverse/pool.js';
import {
  checkListedBackends,
  type OwnedControlPlane,
  openInProcessControlPlane,
} from '../runtime/control-plane-wiring.js';
import { handleLifecycleSignals } from '../runtime/signals.js';
import { aggregateMetrics } from './aggregate-metrics.js';
import { returnMemory } from './memory-return.js';
import { tunePrimaryHeap, workerEnv, workerExecArgv } from './memory-settings.js';
import { type FromWorker, isFromWorker, type ToWorker, type WorkerStatus } from './messages.js';
import { withPortSlice } from './port-slices.js';

/** A worker that dies sooner than this after starting is restarted after a pause (no crash loop). */
const QUICK_DEATH_MS = 5000;
const RESTART_PAUSE_MS = 1000;
const ADMIN_REPLY_TIMEOUT_MS = 3000;

interface Slot {
  index: number;
  worker: Worker | undefined;
  startedAt: number;
  listening: boolean;
  draining: boolean;
}

export interface ClusterOptions {
  config: FtpxConfig;
  workers: number;
  logLevel: LogLevel | undefined;
  /** Re-reads the config file (SIGHUP); throws ConfigError when it is not valid. */
  reloadConfig(): FtpxConfig;
}

/**
 * The primary of `ftpx serve --workers N` (node:cluster). It serves no FTP itself:
 * - the control listeners are opened by the workers and shared through the primary (round robin);
 * - each worker gets its own slice of every passive port range (port-slices.ts);
 * - with the embedded control plane, the primary alone owns the store: it runs the control plane's
 *   functions in this process and the workers call them over the cluster's IPC channel
 *   (control-plane/ipc-transport.ts): no port, no token;
 * - a worker that exits unasked is restarted in its slot; the other workers' sessions are untouched;
 * - SIGHUP re-reads the config here once and hands it to every worker; SIGTERM drains every worker;
 * - the admin endpoint runs here and sums the workers' answers (see docs/operating.md).
 */
export async function runClusterPrimary(options: ClusterOptions): Promise<number> {
  tunePrimaryHeap();
  let config = options.config;
  const service = createServiceLogger(config.log, options.logLevel);
  const log = service.log.child({ process: 'primary' });
  const own = new Registry();
  const workersGauge = new Gauge({
    name: 'ftpx_worker_processes',
    help: 'Worker processes running now.',
    registers: [own],
  });
  const restarts = new Counter({
    name: 'ftpx_worker_restarts_total',
    help: 'Worker processes restarted after they exited unasked.',
    registers: [own],
  });
  /** The embedded control plane's store, owned here; its functions answer the workers over IPC. */
  let embedded: OwnedControlPlane | undefined;
  /** The config's pools, for the active health checks of their listed backends (updated on reload). */
  let pools: Pool[] = [];
  const loadPools = (from: FtpxConfig) => Promise.all(from.pools.map((pool) => loadPool(pool, silentLogger)));
  const controlPlaneLog = log.child({ component: 'control-plane' });
  if (config.controlPlane?.url === undefined) {
    pools = await loadPools(config);
    // Its answers are checked in the worker that asked (ipc-transport.ts), not twice.
    embedded = await openInProcessControlPlane(config, controlPlaneLog, { checkResponses: false });
    checkListedBackends(config, embedded.store, () => pools);
    log.info('control plane for the workers: in this process, over IPC');
  }
  const closeControlPlane = async () => {
    await embedded?.store.stopBackground();
    await embedded?.store.close();
  };

  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({
    index,
    worker: undefined,
    startedAt: 0,
    listening: false,
    draining: false,
  }));
  let stopping = false;
  let nextRequest = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; timer: NodeJS.Timeout }>();
  let announce: ((listeners: ListeningAddress[]) => void) | undefined;
  let failStart: ((err: Error) => void) | undefined;
  const allListening = new Promise<ListeningAddress[]>((resolve, reject) => {
    announce = resolve;
    failStart = reject;
  });
  const exited = new Set<Worker>();
  let onAllExited: (() => void) | undefined;

  const fork = (slot: Slot) => {
    const worker = cluster.fork({ ...workerEnv(), FTPX_WORKER_SLOT: String(slot.index) });
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.listening = false;
    slot.draining = false;
    workersGauge.set(slots.filter((s) => s.worker).length);
    worker.on('message', (message: unknown) => {
      if (!isFromWorker(message)) return;
      onWorkerMessage(slot, worker, message);
    });
    if (embedded)
      answerControlPlaneCalls(workerEndpoint(worker), embedded.controlPlane, { log: controlPlaneLog });
    worker.once('exit', (code, signal) => {
      exited.add(worker);
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      slot.listening = false;
      workersGauge.set(slots.filter((s) => s.worker).length);
      if (stopping) {
        if (slots.every((s) => !s.worker)) onAllExited?.();
        return;
      }
      restarts.inc();
      const quick = Date.now() - slot.startedAt < QUICK_DEATH_MS;
      log.error('worker process exited; restarting it', {
        slot: slot.index,
        pid: worker.process.pid,
        code,
        signal,
        pauseMs: quick ? RESTART_PAUSE_MS : 0,
      });
      setTimeout(
        () => {
          if (!stopping) fork(slot);
        },
        quick ? RESTART_PAUSE_MS : 0,
      );
    });
  };

  const onWorkerMessage = (slot: Slot, worker: Worker, message: FromWorker) => {
    switch (message.type) {
      case 'hello': {
        const start: ToWorker = {
          type: 'start',
          config: withPortSlice(config, slot.index, slots.length),
          logLevel: options.logLevel,
          slot: slot.index,
          controlPlaneOverIpc: embedded !== undefined,
        };
        worker.send(start);
        return;
      }
      case 'listening':
        slot.listening = true;
        log.info('worker process listening', { slot: slot.index, pid: worker.process.pid });
        if (slots.every((s) => s.listening)) announce?.(message.listeners);
        return;
      case 'start-failed':
        failStart?.(new Error(`a worker could not start: ${message.error}`));
        return;
      case 'draining':
        slot.draining = true;
        return;
      case 'reloaded':
      case 'admin-reply': {
        const waiting = pending.get(message.id);
        if (!waiting) return;
        pending.delete(message.id);
        clearTimeout(waiting.timer);
        waiting.resolve(message.type === 'reloaded' ? message : message.result);
        return;
      }
    }
  };

  /** Sends a request to every running worker; each answer, or undefined for one that did not answer. */
  const ask = <T>(build: (id: number, slot: Slot) => ToWorker): Promise<(T | undefined)[]> =>
    Promise.all(
      slots.flatMap((slot) => {
        const worker = slot.worker;
        if (!worker || !slot.listening) return [];
        const id = nextRequest++;
        return [
          new Promise<T | undefined>((resolve) => {
            const timer = setTimeout(() => {
              pending.delete(id);
              resolve(undefined);
            }, ADMIN_REPLY_TIMEOUT_MS);
            pending.set(id, { resolve: resolve as (value: unknown) => void, timer });
            worker.send(build(id, slot));
          }),
        ];
      }),
    );

  // The admin endpoint first: /readyz answers 503 until every worker listens.
  const source: AdminSource = {
    ready: () => !stopping && slots.every((slot) => slot.listening && !slot.draining),
    metrics: async () => {
      const snapshots = (await ask<MetricsSnapshot>((id) => ({ type: 'admin', id, op: 'metrics' }))).filter(
        (snapshot): snapshot is MetricsSnapshot => Array.isArray(snapshot),
      );
      return aggregateMetrics([
        ...snapshots,
        await own.getMetricsAsJSON(),
        await processMetricsRegistry().getMetricsAsJSON(),
      ]);
    },
    sessions: async () =>
      sessionsOf(await ask<SessionSummary[]>((id) => ({ type: 'admin', id, op: 'sessions' }))),
    kick: async (session) =>
      (await ask<boolean>((id) => ({ type: 'kick', id, session }))).some((found) => found === true),
    status: async () => {
      const answers = await ask<WorkerStatus>((id) => ({ type: 'admin', id, op: 'status' }));
      const statuses = answers.filter((answer): answer is WorkerStatus => answer !== undefined);
      return {
        generatedAt: new Date().toISOString(),
        ready: source.ready(),
        workers: statuses.length,
        backends: mergeBackendStatuses(statuses.map((status) => status.backends)),
        sessions: statuses.flatMap((status) => status.sessions),
        throughput: mergeThroughput(statuses.map((status) => status.throughput)),
      };
    },
  };
  const adminListen = config.admin?.listen;
  const admin = adminListen
    ? await startAdminServer({
        ...adminListen,
        ...(config.admin?.token !== undefined ? { token: config.admin?.token } : {}),
        source,
        log: log.child({ component: 'admin' }),
      }).catch(async (err: unknown) => {
        await closeControlPlane();
        throw err;
      })
    : undefined;
  if (admin) process.stderr.write(`ftpx: admin endpoint on ${admin.url}\n`);
  cluster.setupPrimary({ silent: false, execArgv: workerExecArgv() });
  for (const slot of slots) fork(slot);
  let listeners: ListeningAddress[];
  try {
    listeners = await allListening;
  } catch (err) {
    stopping = true;
    for (const slot of slots) slot.worker?.kill();
    await admin?.close();
    await closeControlPlane();
    throw err;
  }

  const signals = handleLifecycleSignals({
    reload: async () => {
      let next: FtpxConfig;
      let nextPools: Pool[];
      try {
        next = options.reloadConfig();
        // The static backend lists too, here once, so that the workers do not part ways over them.
        nextPools = await loadPools(next);
      } catch (err) {
        log.error('configuration reload rejected; the running configuration stays', {
          errors: describeConfigFailure(err),
        });
        return;
      }
      const answers = await ask<Extract<FromWorker, { type: 'reloaded' }>>((id, slot) => ({
        type: 'reload',
        id,
        config: withPortSlice(next, slot.index, slots.length),
      }));
      const failed = answers.filter((answer) => answer && !answer.ok);
      if (failed.length > 0) {
        log.error('configuration reload rejected by a worker; the running configuration stays', {
          errors: failed.flatMap((answer) => answer?.errors ?? []),
        });
        return;
      }
      // Workers started from now on (restarts) get the new configuration too.
      config = { ...next, admin: config.admin, lifecycle: config.lifecycle, log: config.log };
      pools = nextPools;
      log.info('configuration reloaded', {
        workers: answers.length,
        notApplied: answers[0]?.notApplied ?? [],
      });
    },
    stop: async (signal) => {
      stopping = true;
      log.info('draining', { signal, deadlineMs: lifecycleOf(config).drainTimeout });
      const allExited = new Promise<void>((resolve) => {
        onAllExited = resolve;
        if (slots.every((slot) => !slot.worker)) resolve();
      });
      for (const slot of slots)
        slot.worker?.send({ type: 'drain', timeoutMs: lifecycleOf(config).drainTimeout });
      await allExited;
      await admin?.close();
      await closeControlPlane();
      log.info('stopped');
    },
    hurry: () => {
      for (const slot of slots) slot.worker?.send({ type: 'drain', timeoutMs: 0 });
    },
  });
  // Announced only now that the signal handlers exist: a SIGHUP right after "listening on" reloads,
  // it does not kill the primary by the default action.
  for (const listener of listeners) {
    process.stderr.write(
      `ftpx: listening on ${listener.address}:${listener.port} (pool ${listener.pool}, ${slots.length} worker processes)\n`,
    );
  }
  // Start-up (~500 modules, the configuration) leaves garbage in the old generation that no collection
  // reaches before the first sessions; collected now, it costs no session a pause (bench/README.md,
  // "Before sessions, measured exactly": heap in use 25.4 → 22.4 MiB primary, 18.1 → 15.5 worker).
  returnMemory();
  await signals.stopped;
  signals.dispose();
  await service.close();
  void exited;
  return 0;
}

function sessionsOf(answers: (SessionSummary[] | undefined)[]): SessionSummary[] {
  return answers.flatMap((answer) => answer ?? []);
}

export { KICK_REPLY };
