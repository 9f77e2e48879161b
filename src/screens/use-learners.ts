import { useEffect, useState } from 'react';
import { diagnoseLearner, type Diagnosis } from '../domain/diagnosis/diagnose.js';
import { findLearners, type LearnerMatch } from '../domain/learners/find-learners.js';
import { learnerCourseRuns, type LearnerRuns } from '../domain/learners/learner-course-runs.js';
import { useConsole } from './console-context.js';
import { usePoll, type Polled } from './use-poll.js';

/** Learners whose username, email or edX username starts with what is typed (after a short pause in typing). */
export function useLearnerSearch(text: string): Polled<LearnerMatch[]> {
  const { ctx } = useConsole();
  const [query, setQuery] = useState(text);
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text), 120);
    return () => clearTimeout(timer);
  }, [text]);
  return usePoll(() => findLearners(ctx.db, query, 50), [ctx, query]);
}

/** The learner's course runs with FinalGrade, cached grade and failed-list membership. */
export function useLearnerRuns(username: string): Polled<LearnerRuns> {
  const { ctx } = useConsole();
  return usePoll(() => learnerCourseRuns(ctx, username), [ctx, username]);
}

/** diagnose's ordered checks of a learner in a run (read-only; R reads them again). */
export function useDiagnosis(username: string, courseKey: string): Polled<Diagnosis> {
  const { ctx } = useConsole();
  return usePoll(() => diagnoseLearner(ctx, username, courseKey), [ctx, username, courseKey]);
}
