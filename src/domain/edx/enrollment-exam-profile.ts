import { writeAudit } from '../audit/audit-log.js';
import { rawRows, type Db } from '../db.js';
import type { Provider } from './edx-settings.js';

// spec 2.8, the CachedEnrollment signal: saving a cached enrollment on a run whose course has an
// exam run with date_last_eligible after today (CourseRun.has_future_exam) ensures the learner's
// exam profile (get-or-create, status pending). An enrollment refresh saves every enrollment edX
// returned, so after one the cached enrollments on the refreshed backends are exactly those saves.

export type EnrollmentExamProfile =
  | { outcome: 'created' | 'exists'; examProfileId: number; courseKey: string }
  /** MicroMasters reads user.profile here and would fail; gradeops says so and moves on. */
  | { outcome: 'no-profile'; courseKey: string; note: string };

export interface ExamProfileSubject {
  operator: string;
  userId: number;
  username: string;
}

/** `today`: the UTC date the exam runs are compared with (date_last_eligible is a date, spec 1.7). */
export async function ensureExamProfileForEnrollments(
  trx: Db,
  subject: ExamProfileSubject,
  providers: readonly Provider[],
  now: Date,
): Promise<EnrollmentExamProfile | null> {
  if (providers.length === 0) return null;
  const today = now.toISOString().slice(0, 10);
  const [due] = rawRows<{ id: number; edx_course_key: string; profile_id: number | null; exam_profile_id: number | null }>(
    await trx.raw(
      `SELECT r.id, r.edx_course_key, p.id AS profile_id, ep.id AS exam_profile_id
         FROM dashboard_cachedenrollment e
         JOIN courses_courserun r ON r.id = e.course_run_id
         LEFT JOIN profiles_profile p ON p.user_id = e.user_id
         LEFT JOIN exams_examprofile ep ON ep.profile_id = p.id
        WHERE e.user_id = ? AND r.courseware_backend IN (${providers.map(() => '?').join(', ')})
          AND EXISTS (SELECT 1 FROM exams_examrun x WHERE x.course_id = r.course_id AND x.date_last_eligible > ?::date)
        ORDER BY r.id LIMIT 1`,
      [subject.userId, ...providers, today],
    ),
  );
  if (!due) return null;
  const courseKey = due.edx_course_key;
  if (due.profile_id === null) {
    return {
      outcome: 'no-profile',
      courseKey,
      note: 'the learner has no profiles_profile row, so no exam profile can be made; they must complete their MicroMasters profile',
    };
  }
  if (due.exam_profile_id !== null) return { outcome: 'exists', examProfileId: Number(due.exam_profile_id), courseKey };
  const [row] = await trx('exams_examprofile')
    .insert({ created_on: now, updated_on: now, profile_id: due.profile_id, status: 'pending' })
    .onConflict('profile_id')
    .ignore()
    .returning(['id', 'profile_id', 'status']);
  if (!row) {
    // A concurrent writer made it between the read and the insert.
    const existing = await trx('exams_examprofile').where('profile_id', due.profile_id).first('id');
    return { outcome: 'exists', examProfileId: Number(existing.id), courseKey };
  }
  await writeAudit(trx, {
    operator: subject.operator,
    action: 'exam-profile',
    userId: subject.userId,
    username: subject.username,
    courseKey,
    courseRunId: Number(due.id),
    before: null,
    after: { id: row.id, profile: row.profile_id, status: row.status, created_on: now.toISOString(), updated_on: now.toISOString() },
    detail: { cause: 'cached-enrollment' },
  });
  return { outcome: 'created', examProfileId: Number(row.id), courseKey };
}
