import type { Knex } from 'knex';
import { rawRows, type Db } from '../db.js';

// spec 2.2, the one definition of who needs a freeze: cached enrollment ∩ cached current grade −
// complete FinalGrade. The freeze job's id list and freeze-status's counts both read it from here
// (issue 6 §3), so the two can never disagree.

/** The ids (column `user_id`) of the learners of a run who need a freeze, as a subquery. */
export function needingFreeze(db: Db, courseRunId: number): Knex.Raw {
  return db.raw(
    `SELECT e.user_id FROM dashboard_cachedenrollment e
       JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id
      WHERE e.course_run_id = ?
        AND NOT EXISTS (SELECT 1 FROM grades_finalgrade f
                         WHERE f.user_id = e.user_id AND f.course_run_id = e.course_run_id AND f.status = 'complete')`,
    [courseRunId],
  );
}

export async function usersNeedingFreeze(db: Db, courseRunId: number): Promise<number[]> {
  const rows = rawRows<{ user_id: number }>(
    await db.raw(`SELECT need.user_id FROM (?) AS need ORDER BY need.user_id`, [needingFreeze(db, courseRunId)]),
  );
  return rows.map((r) => r.user_id);
}

/** Where one learner stands against the rule above; `needsFreeze` is that rule for this learner. */
export interface LearnerStanding {
  userId: number;
  /** null: no auth_user row has this id. */
  username: string | null;
  cachedEnrollment: boolean;
  cachedCurrentGrade: boolean;
  /** Has a complete FinalGrade for the run. */
  frozen: boolean;
  needsFreeze: boolean;
}

/**
 * The same rule for a few given learners (the failed list), probed through the unique (user, run)
 * indexes instead of scanning the run's enrollments: freeze-status must stay fast at 100k.
 */
export async function standingOf(db: Db, courseRunId: number, userIds: readonly number[]): Promise<LearnerStanding[]> {
  if (userIds.length === 0) return [];
  const rows = rawRows<{ user_id: number; username: string | null; enrolled: boolean; graded: boolean; frozen: boolean }>(
    await db.raw(
      // One probe of each unique (user, run) index per learner: a few hundred failed ids cost
      // a few hundred index lookups, never a scan of the run's 100k rows.
      `SELECT ids.user_id,
              (SELECT u.username FROM auth_user u WHERE u.id = ids.user_id) AS username,
              EXISTS (SELECT 1 FROM dashboard_cachedenrollment e WHERE e.user_id = ids.user_id AND e.course_run_id = :run) AS enrolled,
              EXISTS (SELECT 1 FROM dashboard_cachedcurrentgrade g WHERE g.user_id = ids.user_id AND g.course_run_id = :run) AS graded,
              EXISTS (SELECT 1 FROM grades_finalgrade f
                       WHERE f.user_id = ids.user_id AND f.course_run_id = :run AND f.status = 'complete') AS frozen
         FROM unnest(:ids::int[]) AS ids(user_id)`,
      { run: courseRunId, ids: [...userIds] },
    ),
  );
  return rows.map((r) => ({
    userId: r.user_id,
    username: r.username,
    cachedEnrollment: Boolean(r.enrolled),
    cachedCurrentGrade: Boolean(r.graded),
    frozen: Boolean(r.frozen),
    needsFreeze: Boolean(r.enrolled) && Boolean(r.graded) && !r.frozen,
  }));
}
