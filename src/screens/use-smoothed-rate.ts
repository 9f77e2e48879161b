import { useEffect, useRef, useState } from 'react';
import type { FreezeProgress } from '../domain/freeze/freeze-progress.js';
import { RateSmoother, type SmoothedRate } from '../domain/freeze/rate-smoother.js';

/**
 * The smoothed rate and ETA of a job's progress (the smoother `freeze-status --watch` uses too),
 * fed with every new progress and looked at again every second, so a stalled job's rate decays.
 */
export function useSmoothedRate(progress: FreezeProgress | null | undefined): SmoothedRate {
  const smoother = useRef<RateSmoother | null>(null);
  smoother.current ??= new RateSmoother();
  const seen = useRef<string | null>(null);
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 1_000);
    return () => clearInterval(timer);
  }, []);
  if (!progress) return { ratePerSecond: null, etaSeconds: null };
  const stamp = `${progress.startedOn}|${progress.updatedOn}|${progress.done}`;
  if (stamp === seen.current) return smoother.current.current(Date.now(), progress);
  seen.current = stamp;
  return smoother.current.sample({ done: progress.done, queued: progress.queued, at: Date.parse(progress.updatedOn) }, Date.now());
}
