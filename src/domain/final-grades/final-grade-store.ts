import type { Db } from '../db.js';

export type FinalGradeStatus = 'pending' | 'complete';

export interface FinalGrade {
  id: number;
  userId: number;
  courseRunId: number;
  grade: number | null;
  passed: boolean;
  status: FinalGradeStatus;
  paidOnEdx: boolean;
  createdOn: Date;
  updatedOn: Date;
}

export function rowToFinalGrade(r: Record<string, unknown>): FinalGrade {
  return {
    id: r.id as number,
    userId: r.user_id as number,
    courseRunId: r.course_run_id as number,
    grade: r.grade === null ? null : Number(r.grade),
    passed: Boolean(r.passed),
    status: r.status as FinalGradeStatus,
    paidOnEdx: Boolean(r.course_run_paid_on_edx),
    createdOn: new Date(r.created_on as string),
    updatedOn: new Date(r.updated_on as string),
  };
}

export async function findFinalGrade(db: Db, userId: number, courseRunId: number, forUpdate = false): Promise<FinalGrade | null> {
  const query = db('grades_finalgrade').where({ user_id: userId, course_run_id: courseRunId }).first();
  if (forUpdate) query.forUpdate();
  const row = await query;
  return row ? rowToFinalGrade(row) : null;
}

export interface FinalGradeValues {
  grade: number;
  passed: boolean;
  paidOnEdx: boolean;
  status: FinalGradeStatus;
}

/** Inserts unless a row for (user, run) exists already (then null): the unique pair decides races. */
export async function insertFinalGrade(db: Db, userId: number, courseRunId: number, values: FinalGradeValues, now: Date): Promise<FinalGrade | null> {
  const [row] = await db('grades_finalgrade').insert({
    user_id: userId, course_run_id: courseRunId, grade: values.grade, passed: values.passed, status: values.status,
    course_run_paid_on_edx: values.paidOnEdx, created_on: now, updated_on: now,
  }).onConflict(['user_id', 'course_run_id']).ignore().returning('*');
  return row ? rowToFinalGrade(row) : null;
}

export async function updateFinalGrade(db: Db, id: number, values: FinalGradeValues, now: Date): Promise<FinalGrade> {
  const [row] = await db('grades_finalgrade').where('id', id).update({
    grade: values.grade, passed: values.passed, status: values.status, course_run_paid_on_edx: values.paidOnEdx, updated_on: now,
  }).returning('*');
  return rowToFinalGrade(row);
}

/** The serialisation audit rows keep (spec 2.15's field names). */
export function finalGradeForAudit(fg: FinalGrade | null): Record<string, unknown> | null {
  if (!fg) return null;
  return {
    id: fg.id, user: fg.userId, course_run: fg.courseRunId, grade: fg.grade, passed: fg.passed, status: fg.status,
    course_run_paid_on_edx: fg.paidOnEdx, created_on: fg.createdOn.toISOString(), updated_on: fg.updatedOn.toISOString(),
  };
}

export function sameValues(fg: FinalGrade, values: FinalGradeValues): boolean {
  return fg.grade === values.grade && fg.passed === values.passed && fg.paidOnEdx === values.paidOnEdx && fg.status === values.status;
}
