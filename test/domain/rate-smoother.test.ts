import { describe, expect, it } from 'vitest';
import { etaText, paceText, RateSmoother, rateText } from '../../src/domain/freeze/rate-smoother.js';

// Issue #7: freeze-status --watch jumped from 13.8/s to 3.6/s in two seconds and printed `ETA —s`.
// The smoother is fed what a watcher sees: the progress a job publishes, in bursts.

const T0 = Date.parse('2026-11-25T10:00:00Z');

describe('RateSmoother', () => {
  it('says "estimating…" until the job has done work over at least a second, never 0, NaN or Infinity', () => {
    const s = new RateSmoother();
    const first = s.sample({ done: 0, queued: 300, at: T0 });
    expect(first).toEqual({ ratePerSecond: null, etaSeconds: null });
    expect(paceText(first)).toBe('estimating…');
    expect(etaText(first)).toBe('ETA estimating…');
    // Nothing done yet, however long it has run: still no basis.
    expect(s.sample({ done: 0, queued: 300, at: T0 + 3_000 }).ratePerSecond).toBeNull();
    // Work done within less than a second of the first observation: not enough of a basis yet.
    expect(s.sample({ done: 5, queued: 300, at: T0 + 3_500 }).ratePerSecond).toBeNull();
    const based = s.sample({ done: 12, queued: 300, at: T0 + 4_000 });
    expect(based.ratePerSecond).toBeCloseTo(12, 5);
    expect(based.etaSeconds).toBe(24); // 288 left at 12/s
    expect(rateText(based)).toBe('12.0/s');
  });

  it('follows a steady 10/s through bursty publications (each interval between 5/s and 15/s) within 15 %', () => {
    const s = new RateSmoother();
    // The job publishes about every 2 s; learners finish in bursts, so each interval's own rate
    // swings between 5/s and 15/s around the true 10/s (deterministic jitter).
    const jitter = [1.4, 0.6, 1.5, 0.5, 1.2, 0.8, 1.3, 0.7, 1.5, 0.5];
    let done = 0;
    let at = T0;
    const raw: number[] = [];
    const shown: number[] = [];
    for (let i = 0; i < 40; i++) {
      const dt = 2_000;
      const n = Math.round(10 * jitter[i % jitter.length] * (dt / 1000));
      done += n;
      at += dt;
      raw.push(n / (dt / 1000));
      // The watcher polls every second: it sees each publication twice.
      const r = s.sample({ done, queued: 100_000, at });
      s.sample({ done, queued: 100_000, at });
      if (i >= 6) shown.push(r.ratePerSecond!);
    }
    expect(Math.max(...raw) / Math.min(...raw)).toBeGreaterThan(2.5);
    expect(Math.min(...shown)).toBeGreaterThan(8.5);
    expect(Math.max(...shown)).toBeLessThan(11.5);
  });

  it('moves to a new pace over a few seconds instead of jumping to it', () => {
    const s = new RateSmoother();
    for (let second = 0; second <= 20; second++) s.sample({ done: second * 14, queued: 10_000, at: T0 + second * 1000 });
    // The job slows to 4/s: one second later the shown rate has moved only part of the way.
    let done = 20 * 14;
    done += 4;
    const oneSecondLater = s.sample({ done, queued: 10_000, at: T0 + 21_000 }).ratePerSecond!;
    expect(oneSecondLater).toBeGreaterThan(11);
    expect(oneSecondLater).toBeLessThan(14);
    let r = oneSecondLater;
    for (let second = 22; second <= 45; second++) {
      done += 4;
      r = s.sample({ done, queued: 10_000, at: T0 + second * 1000 }).ratePerSecond!;
    }
    expect(r).toBeCloseTo(4, 0);
  });

  it('never shows a negative, NaN or infinite ETA: done beyond queued, a stalled job, a restarted job', () => {
    const s = new RateSmoother();
    s.sample({ done: 0, queued: 10, at: T0 });
    const over = s.sample({ done: 12, queued: 10, at: T0 + 2_000 });
    expect(over.etaSeconds).toBe(0);
    // A stalled job: the rate decays, the ETA grows, and once there is no pace left it says so.
    const stalled = new RateSmoother({ stallAfterMs: 1_000, timeConstantMs: 1_000 });
    stalled.sample({ done: 0, queued: 100, at: T0 }, T0);
    stalled.sample({ done: 10, queued: 100, at: T0 + 1_000 }, T0 + 1_000);
    const later = stalled.current(T0 + 30_000);
    expect(later.ratePerSecond).not.toBeNaN();
    expect(later.ratePerSecond!).toBeGreaterThanOrEqual(0);
    expect(later.etaSeconds).toBeNull();
    expect(etaText(later)).toBe('ETA unknown (no progress lately)');
    // A new job (the count goes back) starts over instead of computing a negative rate.
    const restarted = stalled.sample({ done: 1, queued: 50, at: T0 + 31_000 }, T0 + 31_000);
    expect(restarted).toEqual({ ratePerSecond: null, etaSeconds: null });
    for (const value of [over, later, restarted]) {
      for (const n of [value.ratePerSecond, value.etaSeconds]) if (n !== null) expect(Number.isFinite(n) && n >= 0).toBe(true);
    }
  });

  it('ignores a repeated or older publication instead of dividing by zero', () => {
    const s = new RateSmoother();
    s.sample({ done: 0, queued: 100, at: T0 });
    const a = s.sample({ done: 20, queued: 100, at: T0 + 2_000 });
    const again = s.sample({ done: 20, queued: 100, at: T0 + 2_000 });
    expect(again.ratePerSecond).toBeCloseTo(a.ratePerSecond!, 9);
    expect(Number.isFinite(again.etaSeconds!)).toBe(true);
  });
});
