import { nowOf } from '../domain/context.js';
import { examRunState, listExamRuns, type ExamRunState, type ExamRunSummary } from '../domain/exams/exam-run-state.js';
import { useConsole, useScreenFocus } from './console-context.js';
import { usePoll, type Polled } from './use-poll.js';

/** Every exam run with its counts, read again every 5 s while on top. */
export function useExamRuns(): Polled<ExamRunSummary[]> {
  const { ctx } = useConsole();
  const focused = useScreenFocus();
  return usePoll(() => listExamRuns(ctx.db, nowOf(ctx)), [ctx], { intervalMs: 5_000, active: focused });
}

/**
 * The runbook state of one exam run. Read once and after each action (and on R): it runs populate
 * and generate in a rolled-back transaction, too heavy to poll.
 */
export function useExamRunState(examRunId: number): Polled<ExamRunState> {
  const { ctx } = useConsole();
  return usePoll(() => examRunState(ctx, examRunId), [ctx, examRunId]);
}
