import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { rawRows } from '../db.js';
import { findCourseRunByKey, type CourseRun, type GradingStatus } from '../course-runs/course-run-store.js';
import { getGradingStatus } from '../course-runs/grading-status.js';
import { usernamesById } from '../users.js';
import { listFailures, type FreezeFailure } from './failed-users.js';
import { readFreezeLock, type FreezeLockOwner } from './freeze-lock.js';
import { readProgress, type FreezeProgress } from './freeze-progress.js';
import { micromastersGroupKey } from './redis-keys.js';

// spec 5b "counts that add up": eligible = cached enrollment ∩ cached current grade, frozen ones
// included; frozen = complete FinalGrades; failed = distinct not-yet-frozen users whose last
// attempt failed; remaining = the rest. frozen + failed + remaining = eligible, always.

export interface FreezeCounts {
  eligible: number;
  frozen: number;
  failed: Array<FreezeFailure & { username: string }>;
  remaining: number;
  /** Every FinalGrade row of the run, whatever its status (the reference's numerator). */
  finalGradeRows: number;
}

export interface FreezeStatus extends FreezeCounts {
  courseKey: string;
  title: string;
  status: GradingStatus;
  freezeDate: string | null;
  canFreeze: boolean;
  running: boolean;
  job: (Omit<FreezeLockOwner, 'token'> & { progress: FreezeProgress | null }) | null;
  lastProgress: FreezeProgress | null;
  micromastersTaskGroup: boolean;
}

export async function freezeCounts(ctx: DomainContext, run: CourseRun): Promise<FreezeCounts> {
  // One counting statement, run alongside the failure lookups: a status check on a run with
  // 100k enrollments must stay fast (bench/RESULTS.md).
  const [counted, failures] = await Promise.all([
    ctx.db.raw(
      `WITH cached AS (
          SELECT e.user_id FROM dashboard_cachedenrollment e
            JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id
           WHERE e.course_run_id = :run),
        frozen AS (SELECT user_id FROM grades_finalgrade WHERE course_run_id = :run AND status = 'complete')
       SELECT (SELECT count(*) FROM cached c WHERE NOT EXISTS (SELECT 1 FROM frozen f WHERE f.user_id = c.user_id)) AS eligible_unfrozen,
              (SELECT count(*) FROM frozen) AS frozen,
              (SELECT count(*) FROM grades_finalgrade WHERE course_run_id = :run) AS rows`,
      { run: run.id },
    ),
    listFailures(ctx.db, ctx.redis, run),
  ]);
  const [row] = rawRows<{ eligible_unfrozen: number; frozen: number; rows: number }>(counted);
  let failed: FreezeFailure[] = [];
  if (failures.size > 0) {
    const ids = [...failures.keys()];
    // A join from the id list lets PostgreSQL probe the unique (user, run) indexes per failed user.
    const stillUnfrozen = new Set(
      rawRows<{ user_id: number }>(
        await ctx.db.raw(
          `SELECT e.user_id FROM unnest(?::int[]) AS ids(user_id)
         JOIN dashboard_cachedenrollment e ON e.user_id = ids.user_id AND e.course_run_id = ?
         JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id
        WHERE NOT EXISTS (SELECT 1 FROM grades_finalgrade f WHERE f.user_id = e.user_id AND f.course_run_id = e.course_run_id AND f.status = 'complete')`,
          [ids, run.id],
        ),
      ).map((r) => r.user_id),
    );
    failed = ids.filter((id) => stillUnfrozen.has(id)).map((id) => failures.get(id)!);
  }
  const names = await usernamesById(
    ctx.db,
    failed.map((f) => f.userId),
  );
  const eligibleUnfrozen = Number(row.eligible_unfrozen);
  const frozen = Number(row.frozen);
  return {
    eligible: eligibleUnfrozen + frozen,
    frozen,
    failed: failed
      .map((f) => ({ ...f, username: names.get(f.userId) ?? String(f.userId) }))
      .sort((a, b) => a.username.localeCompare(b.username)),
    remaining: eligibleUnfrozen - failed.length,
    finalGradeRows: Number(row.rows),
  };
}

export async function getFreezeStatus(ctx: DomainContext, courseKey: string): Promise<FreezeStatus> {
  const run = await findCourseRunByKey(ctx.db, courseKey);
  const [status, counts, owner, progress, groupKey] = await Promise.all([
    getGradingStatus(ctx.db, run.id),
    freezeCounts(ctx, run),
    readFreezeLock(ctx.redis, courseKey),
    readProgress(ctx.redis, courseKey),
    ctx.redis.exists(micromastersGroupKey(courseKey)),
  ]);
  return {
    courseKey,
    title: run.title,
    status,
    freezeDate: run.freezeGradeDate ? run.freezeGradeDate.toISOString() : null,
    // The status check never throws on a missing date (spec 2.7): it reports it.
    canFreeze: run.freezeGradeDate !== null && nowOf(ctx).getTime() > run.freezeGradeDate.getTime(),
    ...counts,
    running: owner !== null,
    job: owner ? { operator: owner.operator, host: owner.host, pid: owner.pid, startedOn: owner.startedOn, progress } : null,
    lastProgress: progress,
    micromastersTaskGroup: groupKey > 0,
  };
}
