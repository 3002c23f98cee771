// Prometheus metrics at /metrics (prom-client, one registry per service so in-process test
// services do not share counters).
//
// Two kinds of numbers, kept apart on purpose:
//   - state of the database (snapshots per phase, outbox depth): counted at scrape time, so
//     every process reports the same truth and nothing drifts after a restart;
//   - what *this process* did (phase durations, callback latency, callbacks, timeouts,
//     transitions): counted as it happens. Prometheus sums those over processes; counting
//     other processes' work here as well would count it twice.
import type { Context, Handler, MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { computeWaitOfPhase, persistedPhases, statusOfPhase } from '../../machines/derive.js';
import { effectKinds } from '../../machines/snapshot.js';
import type { CommittedTransition, EngineEvents } from '../engine/engine.js';
import type { SnapshotStore } from '../engine/store/index.js';
import { currentRequest } from '../http/request-context/index.js';
import { RecentPhaseDurations } from './recent-phase-durations.js';

const PREFIX = 'assisted_snapshots_';
const CALLBACK_ACTION = 'os-update_snapshot_status';

/**
 * How a phase ended: left for an error state, ended by an admin action, ran out of time (a
 * compute wait, which then reconciles), or moved on.
 */
export function phaseOutcome(t: Pick<CommittedTransition, 'toStatus' | 'source' | 'eventType'>): 'ok' | 'error' | 'admin' | 'timeout' {
  if (t.source === 'admin') return 'admin';
  if (t.eventType === 'timer.expired') return 'timeout';
  return t.toStatus.startsWith('error') ? 'error' : 'ok';
}

export interface ServiceMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop); on unless turned off. */
  defaultMetrics?: boolean;
  /** Orphan files found by the last scan of the backend (null: not scanned yet). */
  orphanFiles?: () => number | null;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  /** The phase_duration_seconds observations of the last hour, for the web UI's chart. */
  readonly recentPhaseDurations = new RecentPhaseDurations();
  private readonly phaseDuration: Histogram<'phase' | 'outcome'>;
  private readonly callbackLatency: Histogram<'operation' | 'outcome'>;
  private readonly guestPaused: Histogram<'ended_by'>;
  private readonly callbacks: Counter<'form' | 'result'>;
  private readonly timeouts: Counter<'phase'>;
  private readonly transitions: Counter<'event' | 'source'>;
  private readonly listener = (t: CommittedTransition) => this.onTransition(t);

  constructor(
    private readonly store: Pick<SnapshotStore, 'snapshotsPerPhase' | 'pendingJobsPerKind' | 'oldestDueJobs'>,
    private readonly events: EngineEvents,
    private readonly options: ServiceMetricsOptions = {},
  ) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });

    const snapshots = new Gauge({
      name: `${PREFIX}snapshots`,
      help: 'Snapshot rows per phase (deleted ones included: rows are soft-deleted), counted in the database at scrape time.',
      labelNames: ['phase', 'status'] as const,
      registers,
      collect: async () => {
        const counts = await this.store.snapshotsPerPhase();
        snapshots.reset();
        // Every phase appears, with 0 when empty, so a query never sees a series vanish.
        for (const phase of new Set([...persistedPhases, ...counts.keys()])) {
          snapshots.set({ phase, status: persistedPhases.includes(phase) ? statusOfPhase(phase) : 'unknown' }, counts.get(phase) ?? 0);
        }
      },
    });

    const outbox = new Gauge({
      name: `${PREFIX}outbox_depth`,
      help: 'Outbox jobs not yet done (pending effects), per effect kind, counted in the database at scrape time.',
      labelNames: ['kind'] as const,
      registers,
      collect: async () => {
        const counts = await this.store.pendingJobsPerKind();
        outbox.reset();
        for (const kind of new Set<string>([...effectKinds, ...counts.keys()])) outbox.set({ kind }, counts.get(kind) ?? 0);
      },
    });

    const lag = new Gauge({
      name: `${PREFIX}outbox_lag_seconds`,
      help: 'Per effect kind, how long the oldest pending outbox job has been due (0 when none is), read from the database at scrape time.',
      labelNames: ['kind'] as const,
      registers,
      collect: async () => {
        const now = new Date();
        const oldest = await this.store.oldestDueJobs(now);
        lag.reset();
        for (const kind of new Set<string>([...effectKinds, ...oldest.keys()])) {
          const due = oldest.get(kind);
          lag.set({ kind }, due ? Math.max(0, (now.getTime() - due.getTime()) / 1000) : 0);
        }
      },
    });

    const orphans = new Gauge({
      name: `${PREFIX}orphan_files`,
      help: 'Files in the backend that no volume or snapshot owns, as the last scan found them (at start, and at each GET os-orphan-files); never removed by the service.',
      registers,
      collect: () => {
        const count = this.options.orphanFiles?.() ?? null;
        orphans.reset();
        if (count !== null) orphans.set(count);
      },
    });

    this.phaseDuration = new Histogram({
      name: `${PREFIX}phase_duration_seconds`,
      help: 'Time from entering a phase (leaf state) to leaving it, for phases this process saw end; outcome: ok, error, timeout or admin.',
      labelNames: ['phase', 'outcome'] as const,
      // Driver phases take milliseconds to seconds; compute waits up to 600 s (create) / 7200 s (delete).
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200],
      registers,
    });

    this.callbackLatency = new Histogram({
      name: `${PREFIX}callback_to_next_phase_seconds`,
      help: 'From the arrival of a compute callback that ends the compute phase to the commit that enters the next phase.',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });

    this.guestPaused = new Histogram({
      name: `${PREFIX}guest_pause_window_seconds`,
      help: 'How long a create kept the guest pause window open (from the compute request to the transition that queued the resume), per event that closed it; the guest was paused at most this long.',
      labelNames: ['ended_by'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600],
      registers,
    });

    this.callbacks = new Counter({
      name: `${PREFIX}callbacks_total`,
      help: 'os-update_snapshot_status callbacks answered, by form (legacy: status/progress; new: compute_snapshot_status) and result.',
      labelNames: ['form', 'result'] as const,
      registers,
    });
    for (const form of ['legacy', 'new']) for (const result of ['accepted', 'rejected']) this.callbacks.inc({ form, result }, 0);

    this.timeouts = new Counter({
      name: `${PREFIX}timeouts_total`,
      help: 'Compute waits that ran out (timer.expired accepted), per phase.',
      labelNames: ['phase'] as const,
      registers,
    });
    for (const phase of persistedPhases.filter((p) => computeWaitOfPhase(p))) this.timeouts.inc({ phase }, 0);

    this.transitions = new Counter({
      name: `${PREFIX}transitions_total`,
      help: 'Accepted transitions committed by this process, per event and event source.',
      labelNames: ['event', 'source'] as const,
      registers,
    });

    events.on('transition', this.listener);
  }

  stop() {
    this.events.off('transition', this.listener);
  }


  private onTransition(t: CommittedTransition) {
    this.transitions.inc({ event: t.eventType, source: t.source });
    if (t.eventType === 'timer.expired') this.timeouts.inc({ phase: t.fromPhase ?? 'unknown' });
    if (t.pausedMs !== undefined) this.guestPaused.observe({ ended_by: t.eventType }, t.pausedMs / 1000);
    if (!t.fromPhase || t.fromPhase === t.toPhase) return;
    const outcome = phaseOutcome(t);
    // The listener runs inside the request that delivered the event, when there is one.
    const request = currentRequest();
    if (t.eventType === 'compute.status' && request) {
      const operation = computeWaitOfPhase(t.fromPhase) ?? 'unknown';
      this.callbackLatency.observe({ operation, outcome }, (performance.now() - request.startedAt) / 1000);
    }
    // The engine hands over when the phase was entered (the row it transitioned from), so the
    // duration needs no read of the history.
    if (t.fromPhaseEnteredAt) {
      const seconds = (t.at.getTime() - t.fromPhaseEnteredAt.getTime()) / 1000;
      this.phaseDuration.observe({ phase: t.fromPhase, outcome }, seconds);
      this.recentPhaseDurations.observe(t.fromPhase, outcome, seconds, t.at);
    }
  }

  /**
   * Counts compute callbacks by what the API answered; mounted after the auth and body
   * middlewares on the snapshot action route, so the parsed body is there to tell the form.
   */
  callbackMiddleware(): MiddlewareHandler {
    return async (c, next) => {
      await next();
      const parsed = c.get('parsedBody');
      const body = parsed?.present ? parsed.value : undefined;
      const update = body && typeof body === 'object' ? (body as Record<string, unknown>)[CALLBACK_ACTION] : undefined;
      if (!update || typeof update !== 'object') return;
      const form = 'compute_snapshot_status' in update ? 'new' : 'legacy';
      this.callbacks.inc({ form, result: c.res.status === 202 ? 'accepted' : 'rejected' });
    };
  }

  handler(): Handler {
    return async (c: Context) => {
      return c.body(await this.registry.metrics(), 200, { 'Content-Type': this.registry.contentType });
    };
  }
}
