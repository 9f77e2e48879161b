import type { Db } from '../db.js';
import { OpsError } from '../errors.js';
import type { CourseRun } from './course-run-store.js';

// spec 2.1: can_freeze_grades raises on a missing date, else now (UTC) must be strictly later.

export function assertFreezeDateSet(run: CourseRun): Date {
  if (!run.freezeGradeDate) {
    throw new OpsError(
      'missing-freeze-date',
      `course run ${run.courseKey} is missing the freeze date`,
      'set freeze_grade_date on the course run (Django admin → Course runs) to a past UTC instant, then run again',
    );
  }
  return run.freezeGradeDate;
}

export function canFreezeGrades(run: CourseRun, now: Date): boolean {
  return now.getTime() > assertFreezeDateSet(run).getTime();
}

export function assertCanFreeze(run: CourseRun, now: Date, verb = 'frozen'): void {
  if (!canFreezeGrades(run, now)) {
    throw new OpsError(
      'cannot-freeze-yet',
      `course run ${run.courseKey} cannot be ${verb} yet: its freeze date ${run.freezeGradeDate!.toISOString()} is not in the past (now ${now.toISOString()}, UTC)`,
      'wait until the freeze date has passed, or correct freeze_grade_date',
    );
  }
}

/** spec 2.1 get_freezable: a past freeze date and no complete grading status; discontinued runs included. */
export async function listFreezableRunKeys(db: Db, now: Date): Promise<string[]> {
  return db('courses_courserun as r')
    .leftJoin('grades_courserungradingstatus as s', 's.course_run_id', 'r.id')
    .whereNotNull('r.freeze_grade_date')
    .where('r.freeze_grade_date', '<', now)
    .where((q) => void q.whereNull('s.status').orWhereNot('s.status', 'complete'))
    .whereNotNull('r.edx_course_key')
    .orderBy('r.id')
    .pluck('r.edx_course_key');
}
