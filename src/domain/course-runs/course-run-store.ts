import type { Db } from '../db.js';
import { OpsError } from '../errors.js';
import type { Provider } from '../edx/edx-settings.js';
import { assertWellFormedCourseKey } from './course-key.js';

export interface CourseRun {
  id: number;
  title: string;
  courseKey: string;
  courseId: number | null;
  courseTitle: string | null;
  programId: number | null;
  programTitle: string | null;
  startDate: Date | null;
  freezeGradeDate: Date | null;
  backend: Provider;
  isDiscontinued: boolean;
  /** spec 1.3: a course "has an exam" when any exams_examrun references it. */
  courseHasExam: boolean;
}

export type GradingStatus = 'not_started' | 'pending' | 'complete';

export interface CourseRunListing extends CourseRun {
  gradingStatus: GradingStatus;
}

const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));

function rowToCourseRun(r: Record<string, unknown>): CourseRun {
  return {
    id: r.id as number,
    title: r.title as string,
    courseKey: r.edx_course_key as string,
    courseId: (r.course_id as number | null) ?? null,
    courseTitle: (r.course_title as string | null) ?? null,
    programId: (r.program_id as number | null) ?? null,
    programTitle: (r.program_title as string | null) ?? null,
    startDate: date(r.start_date),
    freezeGradeDate: date(r.freeze_grade_date),
    backend: r.courseware_backend as Provider,
    isDiscontinued: Boolean(r.is_discontinued),
    courseHasExam: Boolean(r.course_has_exam),
  };
}

function baseQuery(db: Db) {
  return db('courses_courserun as r')
    .leftJoin('courses_course as c', 'c.id', 'r.course_id')
    .leftJoin('courses_program as p', 'p.id', 'c.program_id')
    .leftJoin('grades_courserungradingstatus as s', 's.course_run_id', 'r.id')
    .select(
      'r.id',
      'r.title',
      'r.edx_course_key',
      'r.course_id',
      'r.start_date',
      'r.freeze_grade_date',
      'r.courseware_backend',
      'r.is_discontinued',
      'c.title as course_title',
      'c.program_id',
      'p.title as program_title',
      's.status as grading_status',
      db.raw('EXISTS (SELECT 1 FROM exams_examrun e WHERE e.course_id = r.course_id) AS course_has_exam'),
    );
}

export async function findCourseRunByKey(db: Db, courseKey: string): Promise<CourseRun> {
  assertWellFormedCourseKey(courseKey);
  const row = await baseQuery(db).where('r.edx_course_key', courseKey).first();
  if (!row) {
    throw new OpsError(
      'unknown-course-key',
      `no course run has the key ${courseKey}`,
      'check the spelling (keys are case-sensitive); `gradeops runs` lists every course run',
    );
  }
  return rowToCourseRun(row);
}

export async function listCourseRuns(db: Db): Promise<CourseRunListing[]> {
  const rows = await baseQuery(db)
    .whereNotNull('r.edx_course_key')
    .orderBy([{ column: 'p.title' }, { column: 'c.position_in_program' }, { column: 'r.start_date' }, { column: 'r.id' }]);
  return rows.map((r: Record<string, unknown>) => ({ ...rowToCourseRun(r), gradingStatus: toGradingStatus(r.grading_status) }));
}

export function toGradingStatus(value: unknown): GradingStatus {
  return value === 'complete' ? 'complete' : value === 'pending' ? 'pending' : 'not_started';
}
