import { preparedRows, type Db } from '../db.js';
import type { DueRowInput } from '../grade-effects/side-effects-due.js';

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
export async function insertFinalGrade(
  db: Db,
  userId: number,
  courseRunId: number,
  values: FinalGradeValues,
  now: Date,
): Promise<FinalGrade | null> {
  const [row] = await db('grades_finalgrade')
    .insert({
      user_id: userId,
      course_run_id: courseRunId,
      grade: values.grade,
      passed: values.passed,
      status: values.status,
      course_run_paid_on_edx: values.paidOnEdx,
      created_on: now,
      updated_on: now,
    })
    .onConflict(['user_id', 'course_run_id'])
    .ignore()
    .returning('*');
  return row ? rowToFinalGrade(row) : null;
}

/** One learner of `insertFinalGradesAudited`: the values, and what its audit row says beside them. */
export interface NewFrozenGrade {
  userId: number;
  username: string | null;
  values: FinalGradeValues;
  /** `newFinalGradeForAudit` of the values (the new row's id is added in the statement). */
  after: Record<string, unknown>;
  detail: unknown;
}

/**
 * FinalGrades of one run with their `freeze-user` audit rows and side-effects-due rows (issue 12
 * §3), in one statement (atomic on its own, all or nothing): a freeze writes a batch of learners,
 * or one, in one round trip instead of BEGIN, insert, audit, outbox, COMMIT. A learner whose
 * (user, run) row exists already is skipped (absent from the result): the unique pair decides.
 * It returns named columns, not `*`: a prepared statement fails ("cached plan must not change
 * result type") if a MicroMasters migration adds a column while gradeops runs.
 */
export async function insertFinalGradesAudited(
  db: Db,
  courseRunId: number,
  grades: readonly NewFrozenGrade[],
  now: Date,
  common: { operator: string; courseKey: string; due: Pick<DueRowInput, 'source' | 'freezeRunId'> },
): Promise<Map<number, FinalGrade & { sideEffectsDueId: number }>> {
  const created = new Map<number, FinalGrade & { sideEffectsDueId: number }>();
  if (grades.length === 0) return created;
  const payload = JSON.stringify(
    grades.map((g) => ({
      user_id: g.userId,
      username: g.username,
      grade: g.values.grade,
      passed: g.values.passed,
      status: g.values.status,
      paid: g.values.paidOnEdx,
      data_after: g.after,
      detail: g.detail ?? null,
    })),
  );
  const rows = await preparedRows<Record<string, unknown>>(
    db,
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb)
         AS x(user_id integer, username text, grade double precision, passed boolean, status text, paid boolean, data_after jsonb, detail jsonb)
     ), created AS (
       INSERT INTO grades_finalgrade (user_id, course_run_id, grade, passed, status, course_run_paid_on_edx, created_on, updated_on)
       SELECT user_id, ?::integer, grade, passed, status, paid, ?::timestamptz, ?::timestamptz FROM input ORDER BY user_id
       ON CONFLICT (user_id, course_run_id) DO NOTHING
       RETURNING id, user_id, course_run_id, grade, passed, status, course_run_paid_on_edx, created_on, updated_on
     ), audited AS (
       INSERT INTO gradeops_audit_log (operator, action, course_key, course_run_id, user_id, username, data_before, data_after, detail, side_effects_due_id)
       SELECT ?::text, 'freeze-user', ?::text, created.course_run_id, created.user_id, input.username, NULL,
              input.data_after || jsonb_build_object('id', created.id), input.detail, NULL
         FROM created JOIN input ON input.user_id = created.user_id
     ), due AS (
       INSERT INTO gradeops_side_effects_due
              (final_grade_id, user_id, course_run_id, course_key, username, created, source, operator, freeze_run_id, due_on)
       SELECT created.id, created.user_id, created.course_run_id, ?::text, input.username, true, ?::text, ?::text, ?::bigint, ?::timestamptz
         FROM created JOIN input ON input.user_id = created.user_id
       RETURNING id, final_grade_id
     )
     SELECT created.*, due.id AS side_effects_due_id FROM created JOIN due ON due.final_grade_id = created.id`,
    [
      payload,
      courseRunId,
      now,
      now,
      common.operator,
      common.courseKey,
      common.courseKey,
      common.due.source,
      common.operator,
      common.due.freezeRunId,
      now,
    ],
  );
  for (const row of rows) created.set(Number(row.user_id), { ...rowToFinalGrade(row), sideEffectsDueId: Number(row.side_effects_due_id) });
  return created;
}

/** What `finalGradeForAudit` will say of a FinalGrade about to be inserted, but its id. */
export function newFinalGradeForAudit(userId: number, courseRunId: number, values: FinalGradeValues, now: Date): Record<string, unknown> {
  const { id: _id, ...rest } = finalGradeForAudit({ id: 0, userId, courseRunId, ...values, createdOn: now, updatedOn: now })!;
  return rest;
}

export async function updateFinalGrade(db: Db, id: number, values: FinalGradeValues, now: Date): Promise<FinalGrade> {
  const [row] = await db('grades_finalgrade')
    .where('id', id)
    .update({
      grade: values.grade,
      passed: values.passed,
      status: values.status,
      course_run_paid_on_edx: values.paidOnEdx,
      updated_on: now,
    })
    .returning('*');
  return rowToFinalGrade(row);
}

/** The serialisation audit rows keep (spec 2.15's field names). */
export function finalGradeForAudit(fg: FinalGrade | null): Record<string, unknown> | null {
  if (!fg) return null;
  return {
    id: fg.id,
    user: fg.userId,
    course_run: fg.courseRunId,
    grade: fg.grade,
    passed: fg.passed,
    status: fg.status,
    course_run_paid_on_edx: fg.paidOnEdx,
    created_on: fg.createdOn.toISOString(),
    updated_on: fg.updatedOn.toISOString(),
  };
}

export function sameValues(fg: FinalGrade, values: FinalGradeValues): boolean {
  return fg.grade === values.grade && fg.passed === values.passed && fg.paidOnEdx === values.paidOnEdx && fg.status === values.status;
}
