// Keeps the outbox worker and the deadline sweeper going inside a service process. It wakes at
// once when this process commits a transition with effects, and otherwise polls, because other
// processes on the same database commit work this one hears nothing about.
import type { Engine, CommittedTransition } from './engine.js';
import { sweepDeadlines } from './deadline-sweeper.js';
import type { OutboxWorker } from './outbox-worker.js';

export interface RunnerOptions {
  pollMs?: number;
  onError?: (err: unknown) => void;
}

export class Runner {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private pendingWake = false;
  private readonly pollMs: number;
  private readonly onTransition = (t: CommittedTransition) => {
    if (t.effects.length > 0) this.poke();
  };

  constructor(
    private readonly engine: Engine,
    private readonly worker: OutboxWorker,
    private readonly options: RunnerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.engine.events.on('transition', this.onTransition);
    this.loop = this.run();
  }

  /** Finishes the job in hand (its result is recorded), then stops. */
  async stop() {
    this.running = false;
    this.engine.events.off('transition', this.onTransition);
    this.poke();
    await this.loop;
  }

  poke() {
    this.pendingWake = true;
    this.wake?.();
  }

  private async run() {
    while (this.running) {
      this.pendingWake = false;
      try {
        while (this.running && (await this.worker.runOne())) {
          /* keep draining */
        }
        if (this.running) await sweepDeadlines(this.engine);
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
  }
}
