import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { rawRows } from '../db.js';
import { readFreezeLock, type FreezeLockOwner } from '../freeze/freeze-lock.js';
import { failedUsersKey } from '../freeze/redis-keys.js';
import { NEEDS_FREEZE_BY_RUN_CTES } from '../freeze/users-needing-freeze.js';
import { listCourseRuns, type CourseRunListing } from './course-run-store.js';

// The course-run table of the console's home screen: every run with the counts of spec 5b
// (eligible, frozen, failed, dropped — the same definitions as freezeCounts: the failed list is the
// truth) and whether a freeze job holds its lock in any process. One grouped statement for all
// runs instead of one status per run, over the rule's one home (NEEDS_FREEZE_BY_RUN_CTES).

export interface CourseRunOverview extends CourseRunListing {
  canFreeze: boolean;
  eligible: number;
  frozen: number;
  failed: number;
  /** On the failed list but no longer eligible (and not frozen): freeze-status lists them as dropped. */
  dropped: number;
  /** The holder of the run's freeze lock, when a job runs (in this process or any other). */
  runningJob: Omit<FreezeLockOwner, 'token'> | null;
}

export async function listCourseRunOverview(ctx: DomainContext): Promise<CourseRunOverview[]> {
  const runs = await listCourseRuns(ctx.db);
  const now = nowOf(ctx);
  // spec 5b: failed_users_{key} is the truth (a gradeops failure row off the list is history). Its
  // ids may be duplicated or frozen since: failed counts the listed learners who still need a
  // freeze, dropped those neither eligible nor frozen, like freezeCounts.
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
      `WITH listed AS (SELECT DISTINCT l.course_run_id, l.user_id FROM unnest(?::int[], ?::int[]) AS l(course_run_id, user_id)),
        ${NEEDS_FREEZE_BY_RUN_CTES},
        eligible AS (SELECT course_run_id, count(*) AS n FROM need GROUP BY course_run_id),
        frozen_n AS (SELECT course_run_id, count(*) AS n FROM frozen GROUP BY course_run_id),
        failed AS (SELECT u.course_run_id, count(*) AS n FROM need u
                     JOIN listed x ON x.course_run_id = u.course_run_id AND x.user_id = u.user_id GROUP BY u.course_run_id),
        dropped AS (SELECT x.course_run_id, count(*) AS n FROM listed x
                     WHERE NOT EXISTS (SELECT 1 FROM need u WHERE u.course_run_id = x.course_run_id AND u.user_id = x.user_id)
                       AND NOT EXISTS (SELECT 1 FROM frozen f WHERE f.course_run_id = x.course_run_id AND f.user_id = x.user_id)
                     GROUP BY x.course_run_id)
       SELECT r.id, coalesce(e.n, 0) AS eligible_unfrozen, coalesce(f.n, 0) AS frozen, coalesce(x.n, 0) AS failed,
              coalesce(d.n, 0) AS dropped
         FROM courses_courserun r
         LEFT JOIN eligible e ON e.course_run_id = r.id
         LEFT JOIN frozen_n f ON f.course_run_id = r.id
         LEFT JOIN failed x ON x.course_run_id = r.id
         LEFT JOIN dropped d ON d.course_run_id = r.id
        WHERE r.edx_course_key IS NOT NULL`,
      [listRuns, listUsers],
    ),
    Promise.all(runs.map((r) => readFreezeLock(ctx.redis, r.courseKey))),
  ]);
  const byRun = new Map(
    rawRows<{ id: number; eligible_unfrozen: unknown; frozen: unknown; failed: unknown; dropped: unknown }>(counted).map((r) => [
      Number(r.id),
      r,
    ]),
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
      dropped: Number(row?.dropped ?? 0),
      runningJob: owner ? { operator: owner.operator, host: owner.host, pid: owner.pid, startedOn: owner.startedOn } : null,
    };
  });
}
