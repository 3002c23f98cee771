// Keeps the outbox worker and the deadline sweeper going inside a service process. It wakes at
// once when this process commits a transition with effects or a job finishes, and otherwise
// polls, because other processes on the same database commit work this one hears nothing about.
// Up to `concurrency` jobs run at once; the per-volume rule (one assisted operation at a time)
// is the worker's, and holds whatever the concurrency.
//
// A stop comes in two steps so the service can bound it (src/service.ts): stopClaiming() ends the
// claims and lets the jobs in hand run on (settled() says when they are done); whatever is still
// claimed when the service gives up on them is freed by handBack() for the next start.
import type { Engine } from './engine.js';
import { sweepDeadlines } from './deadline-sweeper.js';
import type { OutboxWorker } from './outbox-worker.js';
import type { CommittedTransition } from './types.js';

export interface RunnerOptions {
  pollMs?: number;
  /** Most effects running at once in this process. */
  concurrency?: number;
  onError?: (err: unknown) => void;
}

export class Runner {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private pendingWake = false;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly inFlight = new Map<number, Promise<unknown>>();
  private lastSweep = 0;
  /** A claim failed: this worker may hold leases it never heard of. */
  private strayLeases = false;
  private readonly onTransition = (t: Pick<CommittedTransition, 'effects'>) => {
    if (t.effects.length > 0) this.poke();
  };

  constructor(
    private readonly engine: Engine,
    private readonly worker: OutboxWorker,
    private readonly options: RunnerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.concurrency = Math.max(1, options.concurrency ?? 16);
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.engine.events.on('transition', this.onTransition);
    this.engine.events.on('volumeTransition', this.onTransition);
    this.loop = this.run();
  }

  /** Finishes the jobs in hand (their results are recorded), then stops. */
  async stop() {
    this.stopClaiming();
    // A result the database refuses now is left to the lease (the job runs again later), so a
    // stop during an outage does not wait out the retries.
    this.worker.stop();
    await this.loop;
  }

  /** Claims nothing more; the jobs in hand run on, and an effect cut short is handed back. */
  stopClaiming() {
    this.running = false;
    this.worker.beginShutdown();
    this.engine.events.off('transition', this.onTransition);
    this.engine.events.off('volumeTransition', this.onTransition);
    this.poke();
  }

  /** Resolves once the loop has ended and every job in hand has finished (after stopClaiming). */
  settled(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** How many jobs are running now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * The process is about to exit: stops retrying to record results and frees every job this
   * worker still holds (one whose effect never settled, or whose hand-back the database refused),
   * so the next start runs them at once instead of waiting out their leases. Returns how many.
   */
  handBack(): Promise<number> {
    this.worker.stop();
    return this.worker.releaseOwnLeases();
  }

  poke() {
    this.pendingWake = true;
    this.wake?.();
  }

  private async run() {
    while (this.running) {
      this.pendingWake = false;
      try {
        if (this.strayLeases) {
          await this.worker.releaseStrayLeases([...this.inFlight.keys()]);
          this.strayLeases = false;
        }
        await this.fill();
        // Deadlines are seconds apart; looking once per poll interval is enough.
        if (this.running && Date.now() - this.lastSweep >= Math.min(this.pollMs, 1000)) {
          this.lastSweep = Date.now();
          await sweepDeadlines(this.engine);
        }
      } catch (err) {
        this.options.onError?.(err);
      }
      if (!this.running || this.pendingWake) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    await Promise.allSettled(this.inFlight.values());
  }

  /** Claims jobs until the concurrency is used up or none is runnable. */
  private async fill() {
    while (this.running && this.inFlight.size < this.concurrency) {
      let started;
      try {
        started = await this.worker.startBatch(this.concurrency - this.inFlight.size);
      } catch (err) {
        this.strayLeases = true;
        throw err;
      }
      if (started.length === 0) return;
      for (const { job, done } of started) {
        const tracked = done
          .catch((err) => this.options.onError?.(err))
          .finally(() => {
            this.inFlight.delete(job.id);
            this.poke();
          });
        this.inFlight.set(job.id, tracked);
      }
    }
  }
}
