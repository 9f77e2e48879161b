import type { Redis } from 'ioredis';
import { freezeProgressKey } from './redis-keys.js';

/** What a running job publishes so any process can watch it (freeze-status --watch, the TUI). */
export interface FreezeProgress {
  queued: number;
  frozen: number;
  failed: number;
  done: number;
  ratePerSecond: number;
  etaSeconds: number | null;
  startedOn: string;
  updatedOn: string;
  state: 'running' | 'finished' | 'interrupted';
}

export async function publishProgress(redis: Redis, courseKey: string, progress: FreezeProgress): Promise<void> {
  const key = freezeProgressKey(courseKey);
  await redis
    .multi()
    .hset(key, Object.fromEntries(Object.entries(progress).map(([k, v]) => [k, v === null ? '' : String(v)])))
    .pexpire(key, 24 * 3600 * 1000)
    .exec();
}

export async function readProgress(redis: Redis, courseKey: string): Promise<FreezeProgress | null> {
  const raw = await redis.hgetall(freezeProgressKey(courseKey));
  if (!raw || !raw.state) return null;
  const num = (v: string | undefined) => (v === undefined || v === '' ? 0 : Number(v));
  return {
    queued: num(raw.queued),
    frozen: num(raw.frozen),
    failed: num(raw.failed),
    done: num(raw.done),
    ratePerSecond: num(raw.ratePerSecond),
    etaSeconds: raw.etaSeconds ? Number(raw.etaSeconds) : null,
    startedOn: raw.startedOn,
    updatedOn: raw.updatedOn,
    state: raw.state as FreezeProgress['state'],
  };
}

/** Rate over a sliding window of recent completions, so the ETA follows the current pace. */
export class RateMeter {
  private readonly stamps: number[] = [];
  constructor(private readonly windowMs = 10_000) {}

  tick(at = Date.now()): void {
    this.stamps.push(at);
    while (this.stamps.length > 0 && this.stamps[0] < at - this.windowMs) this.stamps.shift();
  }

  perSecond(at = Date.now()): number {
    const recent = this.stamps.filter((t) => t >= at - this.windowMs);
    if (recent.length < 2) return recent.length;
    const span = Math.max(at - recent[0], 1);
    return (recent.length * 1000) / span;
  }
}
