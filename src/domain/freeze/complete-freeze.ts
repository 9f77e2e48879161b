import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { findCourseRunByKey } from '../course-runs/course-run-store.js';
import { assertCanFreeze } from '../course-runs/freeze-date.js';
import { getGradingStatus, setStatusComplete } from '../course-runs/grading-status.js';
import { OpsError } from '../errors.js';
import { readFreezeLock } from './freeze-lock.js';
import { failedUsersKey, gradeopsKeysOf, micromastersGroupKey } from './redis-keys.js';

// spec 2.7 complete_course_run_freeze, corrected by 5b: a missing date is a clear error (not a
// crash), a running job refuses, and the failed list plus gradeops' keys are cleared (the
// reference deletes the wrong key and keeps the list).

export interface CompleteFreezeResult {
  courseKey: string;
  status: 'complete';
  alreadyComplete: boolean;
  clearedFailedUsers: number;
  warnings: string[];
}

export async function completeFreeze(ctx: DomainContext, courseKey: string): Promise<CompleteFreezeResult> {
  const run = await findCourseRunByKey(ctx.db, courseKey);
  assertCanFreeze(run, nowOf(ctx), 'marked as frozen');
  if ((await getGradingStatus(ctx.db, run.id)) === 'complete') {
    return { courseKey, status: 'complete', alreadyComplete: true, clearedFailedUsers: 0, warnings: [] };
  }
  const holder = await readFreezeLock(ctx.redis, courseKey);
  if (holder) {
    throw new OpsError(
      'freeze-running',
      `a freeze of ${courseKey} is running (${holder.operator} on ${holder.host}, PID ${holder.pid}, since ${holder.startedOn})`,
      'stop it (Ctrl-C in its terminal) or wait for it, then complete the run',
    );
  }
  const warnings: string[] = [];
  if (await ctx.redis.exists(micromastersGroupKey(courseKey))) {
    warnings.push(
      `a MicroMasters freeze task group may still be running (${micromastersGroupKey(courseKey)} is set); gradeops leaves it alone`,
    );
  }
  const failedIds = await ctx.redis.lrange(failedUsersKey(courseKey), 0, -1);
  await ctx.db.transaction(async (trx) => {
    const before = await getGradingStatus(trx, run.id);
    await setStatusComplete(trx, run.id, nowOf(ctx));
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'complete-freeze',
      courseKey,
      courseRunId: run.id,
      before: { status: before },
      after: { status: 'complete' },
      detail: { failedUsersCleared: [...new Set(failedIds)].map(Number) },
    });
  });
  await ctx.redis.del(failedUsersKey(courseKey), ...gradeopsKeysOf(courseKey));
  return { courseKey, status: 'complete', alreadyComplete: false, clearedFailedUsers: new Set(failedIds).size, warnings };
}
