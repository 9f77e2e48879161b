import { rawRows, type Db } from '../db.js';

/** The three cached edX rows of one learner on one run (spec 1.4), raw as edX sent them. */
export interface CachedGradeData {
  enrollment: Record<string, unknown> | null;
  certificate: Record<string, unknown> | null;
  currentGrade: Record<string, unknown> | null;
}

export async function loadCachedGradeData(db: Db, userId: number, courseRunId: number): Promise<CachedGradeData> {
  // One round trip for the three rows: this runs once per learner in every freeze.
  const [row] = rawRows<{ enrollment: unknown; certificate: unknown; current_grade: unknown }>(await db.raw(
    `SELECT (SELECT data FROM dashboard_cachedenrollment WHERE user_id = :user AND course_run_id = :run) AS enrollment,
            (SELECT data FROM dashboard_cachedcertificate WHERE user_id = :user AND course_run_id = :run) AS certificate,
            (SELECT data FROM dashboard_cachedcurrentgrade WHERE user_id = :user AND course_run_id = :run) AS current_grade`,
    { user: userId, run: courseRunId }));
  const asObject = (value: unknown) => (value ?? null) as Record<string, unknown> | null;
  return { enrollment: asObject(row.enrollment), certificate: asObject(row.certificate), currentGrade: asObject(row.current_grade) };
}
