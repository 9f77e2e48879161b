import { freezePreflight, type FreezePreflight } from '../domain/freeze/freeze-preflight.js';
import { useConsole } from './console-context.js';
import { usePoll, type Polled } from './use-poll.js';

/** The freeze wizard's checklist for a run, read once (R reads it again). */
export function useFreezePreflight(courseKey: string, enabled: boolean): Polled<FreezePreflight | null> {
  const { ctx } = useConsole();
  return usePoll(() => (enabled ? freezePreflight(ctx, courseKey) : Promise.resolve(null)), [ctx, courseKey, enabled]);
}
