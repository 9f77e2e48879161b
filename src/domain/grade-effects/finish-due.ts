import type { DomainContext } from '../context.js';
import type { CourseRun } from '../course-runs/course-run-store.js';
import { isOpsError } from '../errors.js';
import { rowToFinalGrade } from '../final-grades/final-grade-store.js';
import { acquireFreezeLock } from '../freeze/freeze-lock.js';
import { applyFinalGradeSideEffects, type FinalGradeSideEffects } from './final-grade-side-effects.js';
import type { SideEffectPlan } from './side-effect-plan.js';
import { deleteDue, effectsDoneFor, listDue, noteDueFailure, type SideEffectsDue } from './side-effects-due.js';

// Issue 12 §3: the side effects a crash left due (their FinalGrade committed, the effects not yet
// run, or run but their row not yet cleared). Every freeze, freeze-user and resync finishes those
// of its run first; `gradeops side-effects` finishes the rest. An effect that already wrote for a
// row (its audit row names the row) is skipped, so each runs exactly once.

export interface FinishedDue {
  due: SideEffectsDue;
  /** finished: ran and cleared; still-due: an effect failed again; final-grade-gone: reverted since, nothing to do. */
  outcome: 'finished' | 'still-due' | 'final-grade-gone';
  sideEffects: FinalGradeSideEffects | null;
  error: string | null;
}

/** Finishes the due rows of a run. The caller holds the run's freeze lock (no one else runs them). */
export async function finishDueSideEffects(
  ctx: DomainContext,
  run: CourseRun,
  options: { plan?: SideEffectPlan } = {},
): Promise<FinishedDue[]> {
  const rows = await listDue(ctx.db, run.id);
  if (rows.length === 0) return [];
  const done = await effectsDoneFor(
    ctx.db,
    rows.map((r) => r.id),
  );
  const grades = new Map(
    (
      await ctx
        .db('grades_finalgrade')
        .whereRaw('id = ANY(?::int[])', [rows.map((r) => r.finalGradeId)])
        .select('*')
    ).map((r: Record<string, unknown>) => [Number(r.id), rowToFinalGrade(r)]),
  );
  const out: FinishedDue[] = [];
  for (const due of rows) {
    const finalGrade = grades.get(due.finalGradeId);
    if (!finalGrade) {
      // Reverted since: the effects of a deleted FinalGrade are moot (a restore brings its row back).
      await deleteDue(ctx.db, [due.id]);
      out.push({ due, outcome: 'final-grade-gone', sideEffects: null, error: null });
      continue;
    }
    const sideEffects = await applyFinalGradeSideEffects(ctx, run, finalGrade, {
      created: due.created,
      plan: options.plan,
      username: due.username,
      dueId: due.id,
      done: done.get(due.id),
    });
    if (sideEffects.errors.length === 0) {
      await deleteDue(ctx.db, [due.id]);
      out.push({ due, outcome: 'finished', sideEffects, error: null });
    } else {
      const error = sideEffects.errors.map((e) => `${e.effect}: ${e.message}`).join('; ');
      await noteDueFailure(ctx.db, due.id, error);
      out.push({ due, outcome: 'still-due', sideEffects, error });
    }
  }
  return out;
}

/**
 * For the one-learner commands (freeze-user, resync): finish the run's due rows under the run's
 * freeze lock. A running freeze job holds it and finishes them itself: then nothing is done here.
 */
export async function finishDueOfRun(ctx: DomainContext, run: CourseRun): Promise<FinishedDue[] | null> {
  let lock;
  try {
    lock = await acquireFreezeLock(ctx.redis, run.courseKey, ctx.operator);
  } catch (error) {
    if (isOpsError(error) && error.code === 'freeze-running') return null;
    throw error;
  }
  try {
    return await finishDueSideEffects(ctx, run);
  } finally {
    await lock.release().catch(() => {});
  }
}
