import { preparedRows, type Db } from '../db.js';

/** The three cached edX rows of one learner on one run (spec 1.4), raw as edX sent them. */
export interface CachedGradeData {
  enrollment: Record<string, unknown> | null;
  certificate: Record<string, unknown> | null;
  currentGrade: Record<string, unknown> | null;
}

export async function loadCachedGradeData(db: Db, userId: number, courseRunId: number): Promise<CachedGradeData> {
  return (await loadCachedGradeDataMany(db, [userId], courseRunId)).get(userId)!;
}

/** The three cached rows of many learners on one run, in one statement (the freeze job's write batches; once per learner otherwise). */
export async function loadCachedGradeDataMany(
  db: Db,
  userIds: readonly number[],
  courseRunId: number,
): Promise<Map<number, CachedGradeData>> {
  const rows = await preparedRows<{ user_id: number; enrollment: unknown; certificate: unknown; current_grade: unknown }>(
    db,
    `SELECT u.user_id,
            (SELECT data FROM dashboard_cachedenrollment WHERE user_id = u.user_id AND course_run_id = ?) AS enrollment,
            (SELECT data FROM dashboard_cachedcertificate WHERE user_id = u.user_id AND course_run_id = ?) AS certificate,
            (SELECT data FROM dashboard_cachedcurrentgrade WHERE user_id = u.user_id AND course_run_id = ?) AS current_grade
       FROM (SELECT DISTINCT value::integer AS user_id FROM jsonb_array_elements_text(?::jsonb)) u`,
    [courseRunId, courseRunId, courseRunId, JSON.stringify(userIds)],
  );
  const asObject = (value: unknown) => (value ?? null) as Record<string, unknown> | null;
  return new Map(
    rows.map((row) => [
      Number(row.user_id),
      { enrollment: asObject(row.enrollment), certificate: asObject(row.certificate), currentGrade: asObject(row.current_grade) },
    ]),
  );
}
