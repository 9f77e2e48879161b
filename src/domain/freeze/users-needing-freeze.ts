import type { Db } from '../db.js';

// spec 2.2: cached enrollment ∩ cached current grade − complete FinalGrade, computed in SQL.

export async function usersNeedingFreeze(db: Db, courseRunId: number): Promise<number[]> {
  const rows = await db.raw(
    `SELECT e.user_id FROM dashboard_cachedenrollment e
       JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id
      WHERE e.course_run_id = ?
        AND NOT EXISTS (SELECT 1 FROM grades_finalgrade f
                         WHERE f.user_id = e.user_id AND f.course_run_id = e.course_run_id AND f.status = 'complete')
      ORDER BY e.user_id`,
    [courseRunId],
  );
  return (rows.rows as Array<{ user_id: number }>).map((r) => r.user_id);
}
