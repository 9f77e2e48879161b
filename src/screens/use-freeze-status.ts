import { useSyncExternalStore } from 'react';
import { getFreezeStatus, type FreezeStatus } from '../domain/freeze/freeze-status.js';
import { useConsole, useScreenFocus } from './console-context.js';
import type { FreezeJobState } from './freeze-jobs.js';
import { usePoll, type Polled } from './use-poll.js';

/** A run's status, read again every second while its screen is on top (spec 5b counts, the job's progress). */
export function useFreezeStatus(courseKey: string): Polled<FreezeStatus> {
  const { ctx } = useConsole();
  const focused = useScreenFocus();
  return usePoll(() => getFreezeStatus(ctx, courseKey), [ctx, courseKey], { intervalMs: 1_000, active: focused });
}

/** The freeze of a run started in this process, if any, following its events. */
export function useFreezeJob(courseKey: string): FreezeJobState | undefined {
  const { jobs } = useConsole();
  useSyncExternalStore(jobs.subscribe, jobs.getVersion);
  return jobs.get(courseKey);
}
