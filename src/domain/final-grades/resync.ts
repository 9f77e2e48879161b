import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { findCourseRunByKey } from '../course-runs/course-run-store.js';
import { refreshUserGradeCache, type GradeCacheRefreshSummary } from '../edx/cache-refresh.js';
import { afterFinalGradeWrite } from '../grade-effects/after-final-grade-write.js';
import type { FinalGradeSideEffects } from '../grade-effects/final-grade-side-effects.js';
import { finishDueOfRun } from '../grade-effects/finish-due.js';
import { immediateDueSink, recordDue } from '../grade-effects/side-effects-due.js';
import { findLearnerByUsername } from '../users.js';
import { loadCachedGradeData } from './cached-grade-data.js';
import { computeFinalGrade, type ComputedFinalGrade } from './compute-final-grade.js';
import { finalGradeForAudit, findFinalGrade, insertFinalGrade, updateFinalGrade, type FinalGrade } from './final-grade-store.js';

// spec 2.10 resync, corrected by 5b: refresh the cache for the run's backend first (the runbook
// forgets), compute, show the difference; applying updates grade, passed, paid-on-edX and status
// in one save with an audit row.

export interface FieldChange {
  field: 'grade' | 'passed' | 'courseRunPaidOnEdx' | 'status';
  before: unknown;
  after: unknown;
}

export interface ResyncResult {
  username: string;
  courseKey: string;
  refresh: GradeCacheRefreshSummary;
  computed: ComputedFinalGrade;
  before: FinalGrade | null;
  after: FinalGrade | null;
  changes: FieldChange[];
  applied: boolean;
  /** What the save caused (spec 2.8); null when nothing was written. */
  sideEffects: FinalGradeSideEffects | null;
  /** What failed after the commit besides the side effects (the FinalGrade is written all the same). */
  warnings: string[];
}

function diff(before: FinalGrade | null, computed: ComputedFinalGrade): FieldChange[] {
  const wanted = { grade: computed.grade, passed: computed.passed, courseRunPaidOnEdx: computed.paidOnEdx, status: 'complete' };
  const had = before
    ? { grade: before.grade, passed: before.passed, courseRunPaidOnEdx: before.paidOnEdx, status: before.status }
    : { grade: null, passed: null, courseRunPaidOnEdx: null, status: null };
  return (Object.keys(wanted) as Array<FieldChange['field']>)
    .filter((field) => had[field] !== wanted[field])
    .map((field) => ({ field, before: had[field], after: wanted[field] }));
}

export async function resyncFinalGrade(
  ctx: DomainContext,
  username: string,
  courseKey: string,
  options: { apply?: boolean } = {},
): Promise<ResyncResult> {
  const learner = await findLearnerByUsername(ctx.db, username);
  const run = await findCourseRunByKey(ctx.db, courseKey);
  // Issue 12 §3: side effects a crash left due on this run are finished first (even when this
  // resync then finds nothing to change, which is when they were lost before).
  await finishDueOfRun(ctx, run);
  const refresh = await refreshUserGradeCache(ctx.db, ctx.edx, learner.id, run.backend, { now: nowOf(ctx) });
  const computed = computeFinalGrade(run, await loadCachedGradeData(ctx.db, learner.id, run.id));
  const before = await findFinalGrade(ctx.db, learner.id, run.id);
  const changes = diff(before, computed);
  const base = { username, courseKey, refresh, computed, before, changes };
  if (!options.apply || changes.length === 0) return { ...base, after: before, applied: false, sideEffects: null, warnings: [] };

  const { after, created, dueId } = await ctx.db.transaction(async (trx) => {
    const current = await findFinalGrade(trx, learner.id, run.id, true);
    const values = { grade: computed.grade, passed: computed.passed, paidOnEdx: computed.paidOnEdx, status: 'complete' as const };
    const now = nowOf(ctx);
    const saved = current
      ? await updateFinalGrade(trx, current.id, values, now)
      : await insertFinalGrade(trx, learner.id, run.id, values, now);
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'resync',
      courseKey,
      courseRunId: run.id,
      userId: learner.id,
      username,
      before: finalGradeForAudit(current),
      after: finalGradeForAudit(saved),
      detail: { rule: computed.rule, inputs: computed.inputs, changes },
    });
    // spec 2.8: a FinalGrade save (update, or create when there was none) has side effects, due
    // from this commit on (issue 12 §3).
    const due = saved
      ? await recordDue(
          trx,
          saved,
          current === null,
          { courseKey, username, source: 'resync', operator: ctx.operator, freezeRunId: null },
          now,
        )
      : null;
    return { after: saved, created: current === null, dueId: due };
  });
  if (!after || dueId === null) return { ...base, after, applied: true, sideEffects: null, warnings: [] };
  const done = await afterFinalGradeWrite(ctx, run, after, {
    created,
    dueId,
    sink: immediateDueSink(ctx.db),
    username,
    clearFailure: true,
  });
  return { ...base, after, applied: true, sideEffects: done.sideEffects, warnings: done.warnings };
}
