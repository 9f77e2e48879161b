import type { Db } from '../db.js';

/** An exams_examrun row, as far as the FinalGrade side effects need it (spec 1.7). */
export interface ExamRunWindow {
  id: number;
  courseId: number;
  dateFirstSchedulable: Date;
  dateLastSchedulable: Date;
}

function rowToExamRunWindow(r: Record<string, unknown>): ExamRunWindow {
  return {
    id: r.id as number,
    courseId: r.course_id as number,
    dateFirstSchedulable: new Date(r.date_first_schedulable as string),
    dateLastSchedulable: new Date(r.date_last_schedulable as string),
  };
}

/** Every exam run of a course: any of them makes the course one "with an exam" (spec 1.3). */
export async function listExamRunsOfCourse(db: Db, courseId: number): Promise<ExamRunWindow[]> {
  const rows = await db('exams_examrun')
    .where('course_id', courseId)
    .orderBy('id')
    .select('id', 'course_id', 'date_first_schedulable', 'date_last_schedulable');
  return rows.map(rowToExamRunWindow);
}

/** spec 2.8 (ExamRun.get_currently_schedulable): date_first_schedulable ≤ now ≤ date_last_schedulable. */
export function currentlySchedulable(examRuns: readonly ExamRunWindow[], now: Date): ExamRunWindow[] {
  const at = now.getTime();
  return examRuns.filter((e) => e.dateFirstSchedulable.getTime() <= at && at <= e.dateLastSchedulable.getTime());
}
