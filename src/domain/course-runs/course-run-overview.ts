import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { rawRows } from '../db.js';
import { readFreezeLock, type FreezeLockOwner } from '../freeze/freeze-lock.js';
import { failedUsersKey } from '../freeze/redis-keys.js';
import { listCourseRuns, type CourseRunListing } from './course-run-store.js';

// The course-run table of the console's home screen: every run with the counts of spec 5b
// (eligible, frozen, failed — the same definitions as freezeCounts) and whether a freeze job holds
// its lock in any process. One grouped statement for all runs instead of one status per run.

export interface CourseRunOverview extends CourseRunListing {
  canFreeze: boolean;
  eligible: number;
  frozen: number;
  failed: number;
  /** The holder of the run's freeze lock, when a job runs (in this process or any other). */
  runningJob: Omit<FreezeLockOwner, 'token'> | null;
}

export async function listCourseRunOverview(ctx: DomainContext): Promise<CourseRunOverview[]> {
  const runs = await listCourseRuns(ctx.db);
  const now = nowOf(ctx);
  // The reference's lists hold user ids (maybe duplicated, maybe users frozen since); counted only
  // for learners still eligible and unfrozen, like freezeCounts does.
  const lists = runs.length === 0 ? [] : await Promise.all(runs.map((r) => ctx.redis.lrange(failedUsersKey(r.courseKey), 0, -1)));
  const listRuns: number[] = [];
  const listUsers: number[] = [];
  runs.forEach((run, i) => {
    for (const id of new Set(lists[i])) {
      const n = Number(id);
      if (Number.isInteger(n)) {
        listRuns.push(run.id);
        listUsers.push(n);
      }
    }
  });
  const [counted, owners] = await Promise.all([
    ctx.db.raw(
      `WITH unfrozen AS (
          SELECT e.course_run_id, e.user_id FROM dashboard_cachedenrollment e
            JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id
           WHERE NOT EXISTS (SELECT 1 FROM grades_finalgrade f
                              WHERE f.user_id = e.user_id AND f.course_run_id = e.course_run_id AND f.status = 'complete')),
        failures AS (
          SELECT course_run_id, user_id FROM gradeops_freeze_failure
          UNION
          SELECT l.course_run_id, l.user_id FROM unnest(?::int[], ?::int[]) AS l(course_run_id, user_id)),
        eligible AS (SELECT course_run_id, count(*) AS n FROM unfrozen GROUP BY course_run_id),
        frozen AS (SELECT course_run_id, count(*) AS n FROM grades_finalgrade WHERE status = 'complete' GROUP BY course_run_id),
        failed AS (SELECT u.course_run_id, count(*) AS n FROM unfrozen u
                     JOIN failures x ON x.course_run_id = u.course_run_id AND x.user_id = u.user_id GROUP BY u.course_run_id)
       SELECT r.id, coalesce(e.n, 0) AS eligible_unfrozen, coalesce(f.n, 0) AS frozen, coalesce(x.n, 0) AS failed
         FROM courses_courserun r
         LEFT JOIN eligible e ON e.course_run_id = r.id
         LEFT JOIN frozen f ON f.course_run_id = r.id
         LEFT JOIN failed x ON x.course_run_id = r.id
        WHERE r.edx_course_key IS NOT NULL`,
      [listRuns, listUsers],
    ),
    Promise.all(runs.map((r) => readFreezeLock(ctx.redis, r.courseKey))),
  ]);
  const byRun = new Map(
    rawRows<{ id: number; eligible_unfrozen: unknown; frozen: unknown; failed: unknown }>(counted).map((r) => [Number(r.id), r]),
  );
  return runs.map((run, i) => {
    const row = byRun.get(run.id);
    const frozen = Number(row?.frozen ?? 0);
    const owner = owners[i];
    return {
      ...run,
      canFreeze: run.freezeGradeDate !== null && now.getTime() > run.freezeGradeDate.getTime(),
      eligible: Number(row?.eligible_unfrozen ?? 0) + frozen,
      frozen,
      failed: Number(row?.failed ?? 0),
      runningJob: owner ? { operator: owner.operator, host: owner.host, pid: owner.pid, startedOn: owner.startedOn } : null,
    };
  });
}
