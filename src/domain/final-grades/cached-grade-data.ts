import type { Db } from '../db.js';

/** The three cached edX rows of one learner on one run (spec 1.4), raw as edX sent them. */
export interface CachedGradeData {
  enrollment: Record<string, unknown> | null;
  certificate: Record<string, unknown> | null;
  currentGrade: Record<string, unknown> | null;
}

export async function loadCachedGradeData(db: Db, userId: number, courseRunId: number): Promise<CachedGradeData> {
  const [enrollment, certificate, currentGrade] = await Promise.all(
    ['dashboard_cachedenrollment', 'dashboard_cachedcertificate', 'dashboard_cachedcurrentgrade'].map((table) =>
      db(table).where({ user_id: userId, course_run_id: courseRunId }).first('data')),
  );
  return {
    enrollment: (enrollment?.data as Record<string, unknown>) ?? null,
    certificate: (certificate?.data as Record<string, unknown>) ?? null,
    currentGrade: (currentGrade?.data as Record<string, unknown>) ?? null,
  };
}
