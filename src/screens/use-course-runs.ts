import { listCourseRunOverview, type CourseRunOverview } from '../domain/course-runs/course-run-overview.js';
import { useConsole, useScreenFocus } from './console-context.js';
import { usePoll, type Polled } from './use-poll.js';

/** The home screen's course runs with their counts and live markers, read again every 2 s while on top. */
export function useCourseRuns(): Polled<CourseRunOverview[]> {
  const { ctx } = useConsole();
  const focused = useScreenFocus();
  return usePoll(() => listCourseRunOverview(ctx), [ctx], { intervalMs: 2_000, active: focused });
}
