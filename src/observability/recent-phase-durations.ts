// The phase durations of the last hour, for the web UI's chart: the very observations the
// phase_duration_seconds histogram takes (ServiceMetrics feeds both from one place), kept with
// their time so an hour's window can be cut, which a cumulative histogram cannot do.
// Bounded: past `max` observations the oldest go first, so a burst costs memory only up to it.

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
  private readonly items: Observation[] = [];

  constructor(
    private readonly windowMs = 3_600_000,
    private readonly max = 50_000,
  ) {}

  observe(phase: string, outcome: string, seconds: number, at: Date) {
    this.items.push({ at: at.getTime(), phase, outcome, seconds });
    if (this.items.length > this.max) this.items.splice(0, this.items.length - this.max);
  }

  /** Per phase, over the window that ends at `now`; phases in name order. */
  summary(now: Date): PhaseDurationSummary[] {
    const since = now.getTime() - this.windowMs;
    // Observations arrive in commit order; the expired ones are at the front.
    const firstLive = this.items.findIndex((o) => o.at >= since);
    this.items.splice(0, firstLive < 0 ? this.items.length : firstLive);
    const byPhase = new Map<string, PhaseDurationSummary & { sum: number }>();
    for (const o of this.items) {
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
}
