// What a watcher shows of a job's pace. The job publishes its progress every few hundred ms (a
// terminal) or every 2 s (line logs), and learners finish in bursts, so the raw rate between two
// samples jumps (13.8/s, then 3.6/s two seconds later: issue #7). An exponential moving average
// over a few seconds, weighted by the time each sample covers, follows the real pace without the
// jumps. Until the job has done some work over at least a second there is no basis: the rate and
// the ETA are null ("estimating…"), never 0, Infinity, NaN or negative.

export interface SmoothedRate {
  /** Learners per second, or null while there is no basis yet. */
  ratePerSecond: number | null;
  /** Seconds left at that rate (whole, ≥ 0), or null while there is no basis or no progress. */
  etaSeconds: number | null;
}

export interface RateSmootherOptions {
  /** Time constant of the average: a sample's weight halves about every 0.7 × this. */
  timeConstantMs?: number;
  /** The least time the first basis must span. */
  minBasisMs?: number;
  /** No new progress for this long: the shown rate starts decaying towards 0. */
  stallAfterMs?: number;
}

export interface ProgressSample {
  done: number;
  queued: number;
  /** When the job stood there (the publisher's clock, ms). */
  at: number;
}

export class RateSmoother {
  private readonly tau: number;
  private readonly minBasis: number;
  private readonly stallAfter: number;
  private first: ProgressSample | null = null;
  private last: ProgressSample | null = null;
  private ema: number | null = null;
  /** The watcher's clock when `done` last moved, for the stall decay. */
  private lastMoveSeenAt: number | null = null;

  constructor(options: RateSmootherOptions = {}) {
    this.tau = options.timeConstantMs ?? 5_000;
    this.minBasis = options.minBasisMs ?? 1_000;
    this.stallAfter = options.stallAfterMs ?? 5_000;
  }

  reset(): void {
    this.first = null;
    this.last = null;
    this.ema = null;
    this.lastMoveSeenAt = null;
  }

  /**
   * Feeds one observation. `seenAt` is the watcher's own clock (for the stall decay, which must
   * not depend on the publisher's clock agreeing with ours); it defaults to `sample.at`.
   */
  sample(sample: ProgressSample, seenAt: number = sample.at): SmoothedRate {
    if (!Number.isFinite(sample.done) || !Number.isFinite(sample.at)) return this.current(seenAt, sample);
    // A smaller count or an earlier instant is another job (a re-run): start over.
    if (this.last && (sample.done < this.last.done || sample.at < this.last.at)) this.reset();
    if (!this.first || !this.last) {
      this.first = sample;
      this.last = sample;
      this.lastMoveSeenAt = seenAt;
      return this.current(seenAt, sample);
    }
    const dt = sample.at - this.last.at;
    if (dt <= 0) return this.current(seenAt, sample);
    const moved = sample.done - this.last.done;
    if (moved > 0) this.lastMoveSeenAt = seenAt;
    if (this.ema === null) {
      // The first basis: the average pace since the first observation, once it spans long enough.
      const span = sample.at - this.first.at;
      if (span >= this.minBasis && sample.done > this.first.done) {
        this.ema = ((sample.done - this.first.done) * 1000) / span;
        this.last = sample;
      } else if (sample.done === this.first.done) {
        // Nothing done yet: the basis starts from the latest idle observation.
        this.first = sample;
        this.last = sample;
      }
      return this.current(seenAt, sample);
    }
    const instant = (moved * 1000) / dt;
    const alpha = 1 - Math.exp(-dt / this.tau);
    this.ema = this.ema + alpha * (instant - this.ema);
    this.last = sample;
    return this.current(seenAt, sample);
  }

  /** The rate and ETA as of `seenAt` (decayed when the job has not moved for a while). */
  current(seenAt: number, sample: Pick<ProgressSample, 'done' | 'queued'> | null = this.last): SmoothedRate {
    if (this.ema === null || !sample) return { ratePerSecond: null, etaSeconds: null };
    let rate = this.ema;
    const still = this.lastMoveSeenAt === null ? 0 : seenAt - this.lastMoveSeenAt;
    if (still > this.stallAfter) rate *= Math.exp(-(still - this.stallAfter) / this.tau);
    if (!Number.isFinite(rate) || rate < 0) rate = 0;
    const left = Math.max(0, sample.queued - sample.done);
    const eta = left === 0 ? 0 : rate > 1e-3 ? Math.ceil(left / rate) : null;
    return { ratePerSecond: rate, etaSeconds: eta !== null && Number.isFinite(eta) ? eta : null };
  }
}

/** "12.3/s", or "estimating…" while there is no basis. */
export function rateText(r: SmoothedRate): string {
  if (r.ratePerSecond === null) return 'estimating…';
  return `${r.ratePerSecond >= 100 ? Math.round(r.ratePerSecond) : r.ratePerSecond.toFixed(1)}/s`;
}

/** "ETA 2m05s", "ETA estimating…", or "ETA unknown (stalled)" when the job stopped moving. */
export function etaText(r: SmoothedRate): string {
  if (r.ratePerSecond === null) return 'ETA estimating…';
  if (r.etaSeconds === null) return 'ETA unknown (no progress lately)';
  return `ETA ${durationText(r.etaSeconds)}`;
}

export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Rate and ETA on one line: "12.3/s · ETA 2m05s", or "estimating…" while there is no basis. */
export function paceText(r: SmoothedRate): string {
  if (r.ratePerSecond === null) return 'estimating…';
  return `${rateText(r)} · ${etaText(r)}`;
}
