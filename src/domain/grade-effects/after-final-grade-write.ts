import type { DomainContext } from '../context.js';
import type { CourseRun } from '../course-runs/course-run-store.js';
import { failureMessage } from '../errors.js';
import type { FinalGrade } from '../final-grades/final-grade-store.js';
import { clearFailure } from '../freeze/failed-users.js';
import { applyFinalGradeSideEffects, type FinalGradeSideEffects } from './final-grade-side-effects.js';
import type { SideEffectPlan } from './side-effect-plan.js';
import { noteDueFailure, type DueSink } from './side-effects-due.js';

// What follows a committed FinalGrade write (freeze, freeze-user, resync), in the order that loses
// nothing: the side effects of spec 2.8, then their due row (issue 12 §3), then the learner's
// failure record. Never throws: the FinalGrade is written, so the learner is frozen whatever fails
// here (issue 12 §3: a frozen learner is never also recorded as failed); a failure is a warning,
// and a side effect that failed stays due for the next run or `gradeops side-effects`.

export interface AfterWriteOptions {
  created: boolean;
  dueId: number;
  sink: DueSink;
  plan?: SideEffectPlan;
  username?: string | null;
  /** Remove the learner's failure row and list entry (false when known to have none). */
  clearFailure: boolean;
}

export interface AfterWrite {
  sideEffects: FinalGradeSideEffects;
  /** What failed besides the side effects themselves (their errors are in `sideEffects.errors`). */
  warnings: string[];
}

export async function afterFinalGradeWrite(
  ctx: DomainContext,
  run: CourseRun,
  finalGrade: FinalGrade,
  options: AfterWriteOptions,
): Promise<AfterWrite> {
  await ctx.testFaults?.afterFinalGradeCommit?.({ redis: ctx.redis, courseKey: run.courseKey });
  const warnings: string[] = [];
  const who = options.username ?? String(finalGrade.userId);
  const sideEffects = await applyFinalGradeSideEffects(ctx, run, finalGrade, {
    created: options.created,
    plan: options.plan,
    username: options.username,
    dueId: options.dueId,
  });
  try {
    if (sideEffects.errors.length === 0) await options.sink.done(options.dueId);
    else await noteDueFailure(ctx.db, options.dueId, sideEffects.errors.map((e) => `${e.effect}: ${e.message}`).join('; '));
  } catch (error) {
    warnings.push(
      `${who} is frozen, but recording that its side effects ran failed (${failureMessage(error)}); \`gradeops side-effects ${run.courseKey}\` checks them again`,
    );
  }
  if (options.clearFailure) {
    try {
      await clearFailure(ctx.db, ctx.redis, run, finalGrade.userId);
    } catch (error) {
      warnings.push(
        `${who} is frozen, but removing them from the failed list failed (${failureMessage(error)}); they count as frozen all the same`,
      );
    }
  }
  return { sideEffects, warnings };
}
