// The phase durations of the last hour, for the web UI's chart: the very observations the
// phase_duration_seconds histogram takes (ServiceMetrics feeds both from one place), kept with
// their time so an hour's window can be cut, which a cumulative histogram cannot do.
// Bounded: past `max` observations the oldest go first, so a burst costs memory only up to it
// (twice it, briefly, between compactions of the dropped prefix).

export interface PhaseDurationSummary {
  phase: string;
  count: number;
  /** Seconds. */
  mean: number;
  min: number;
  max: number;
  /** Per outcome (ok, error, admin, timeout): how many. */
  outcomes: Record<string, number>;
}

interface Observation {
  at: number;
  phase: string;
  outcome: string;
  seconds: number;
}

export class RecentPhaseDurations {
  /** Live observations are items[head..]; the dead prefix is cut off once it is half the array. */
  private items: Observation[] = [];
  private head = 0;

  constructor(
    private readonly windowMs = 3_600_000,
    private readonly max = 50_000,
  ) {}

  /** The span summary() covers, for whoever labels it. */
  get windowSeconds() {
    return this.windowMs / 1000;
  }

  observe(phase: string, outcome: string, seconds: number, at: Date) {
    this.items.push({ at: at.getTime(), phase, outcome, seconds });
    // Expired here too, not only when summarised: with no reader the array would sit at `max`.
    this.dropBefore(at.getTime() - this.windowMs);
    this.head = Math.max(this.head, this.items.length - this.max);
    this.compact();
  }

  /** Per phase, over the window that ends at `now`; phases in name order. */
  summary(now: Date): PhaseDurationSummary[] {
    this.dropBefore(now.getTime() - this.windowMs);
    this.compact();
    const byPhase = new Map<string, PhaseDurationSummary & { sum: number }>();
    for (let i = this.head; i < this.items.length; i++) {
      const o = this.items[i]!;
      let s = byPhase.get(o.phase);
      if (!s) byPhase.set(o.phase, (s = { phase: o.phase, count: 0, mean: 0, min: Infinity, max: 0, sum: 0, outcomes: {} }));
      s.count += 1;
      s.sum += o.seconds;
      s.min = Math.min(s.min, o.seconds);
      s.max = Math.max(s.max, o.seconds);
      s.outcomes[o.outcome] = (s.outcomes[o.outcome] ?? 0) + 1;
    }
    return [...byPhase.values()]
      .sort((a, b) => a.phase.localeCompare(b.phase))
      .map(({ sum, ...s }) => ({ ...s, mean: sum / s.count }));
  }

  // Observations arrive in commit order; the expired ones are at the front.
  private dropBefore(since: number) {
    while (this.head < this.items.length && this.items[this.head]!.at < since) this.head += 1;
  }

  /** Amortised: each observation is copied at most once more before it is dropped. */
  private compact() {
    if (this.head > 0 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
