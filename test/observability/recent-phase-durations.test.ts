// The last hour's phase durations behind the UI's chart: summarised per phase, cut to the
// window that ends now, and bounded in memory.
import { describe, expect, it } from 'vitest';
import { RecentPhaseDurations } from '../../src/observability/recent-phase-durations.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 29, 10, minute));

describe('RecentPhaseDurations', () => {
  it('summarises each phase of the window, by outcome, and forgets what fell out of it', () => {
    const recent = new RecentPhaseDurations(3_600_000);
    recent.observe('creating.computeAssisted', 'ok', 4, at(0));
    recent.observe('creating.computeAssisted', 'timeout', 600, at(30));
    recent.observe('creating.computeAssisted', 'ok', 2, at(40));
    recent.observe('creating.storageBegin', 'ok', 0.01, at(40));
    expect(recent.summary(at(50))).toEqual([
      { phase: 'creating.computeAssisted', count: 3, mean: 202, min: 2, max: 600, outcomes: { ok: 2, timeout: 1 } },
      { phase: 'creating.storageBegin', count: 1, mean: 0.01, min: 0.01, max: 0.01, outcomes: { ok: 1 } },
    ]);
    // At 11:35 the window starts at 10:35: only the 10:40 observations are left.
    expect(recent.summary(new Date(at(35).getTime() + 3_600_000)).map((p) => [p.phase, p.count])).toEqual([
      ['creating.computeAssisted', 1],
      ['creating.storageBegin', 1],
    ]);
    expect(recent.summary(new Date(at(41).getTime() + 3_600_000))).toEqual([]);
  });

  it('keeps at most `max` observations, dropping the oldest', () => {
    const recent = new RecentPhaseDurations(3_600_000, 3);
    for (let i = 1; i <= 5; i++) recent.observe('available', 'ok', i, at(i));
    expect(recent.summary(at(10))).toEqual([{ phase: 'available', count: 3, mean: 4, min: 3, max: 5, outcomes: { ok: 3 } }]);
  });

  it('drops what expires as it observes, and summarises what is left after many windows', () => {
    const recent = new RecentPhaseDurations(10_000, 1_000);
    const start = at(0).getTime();
    // One a second for an hour; the window that ends at the last one starts at 3,589 s (included).
    for (let i = 0; i < 3_600; i++) recent.observe(i % 2 ? 'a' : 'b', 'ok', i, new Date(start + i * 1000));
    expect(recent.summary(new Date(start + 3_599_000))).toEqual([
      { phase: 'a', count: 6, mean: 3_594, min: 3_589, max: 3_599, outcomes: { ok: 6 } },
      { phase: 'b', count: 5, mean: 3_594, min: 3_590, max: 3_598, outcomes: { ok: 5 } },
    ]);
    expect(recent.windowSeconds).toBe(10);
  });
});
