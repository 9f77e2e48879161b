import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit, type AuditSubject } from '../audit/audit-log.js';
import type { Db } from '../db.js';
import { readFacts, type SqlFragment } from '../sql-facts.js';
import { combinedGrade } from './combined-grade-formula.js';

// spec 2.11 update_or_create_combined_final_grade(user, course), with the MMTrack helpers of 2.13:
// best final = the learner's complete, passed FinalGrades on any run of the course (discontinued
// included), highest grade; best exam = their passed ProctoredExamGrades for the course whose exam
// run is released (date_grades_available ≤ now; no exam run = never released), highest
// percentage_grade. Either missing → nothing, so a combined grade is never deleted or emptied.

export interface CombinedFinalGrade {
  id: number;
  userId: number;
  courseId: number;
  grade: number;
  createdOn: Date;
  updatedOn: Date;
}

export type CombinedFinalGradeOutcome =
  | {
      outcome: 'created' | 'updated';
      combinedFinalGrade: CombinedFinalGrade;
      /** The grade before this update (null when created). */
      previousGrade: number | null;
      bestFinalGrade: { id: number; grade: number; courseRunId: number };
      bestExamGrade: { id: number; score: number; percentageGrade: number; examRunId: number };
    }
  | { outcome: 'skipped'; reason: 'no-passed-final-grade' | 'no-released-passing-exam-grade' };

interface Inputs {
  bestFinal: { id: number; grade: number; courseRunId: number } | null;
  bestExam: { id: number; score: number; percentageGrade: number; examRunId: number } | null;
}

function rowToCombinedFinalGrade(r: Record<string, unknown>): CombinedFinalGrade {
  return {
    id: r.id as number,
    userId: r.user_id as number,
    courseId: r.course_id as number,
    grade: Number(r.grade),
    createdOn: new Date(r.created_on as string),
    updatedOn: new Date(r.updated_on as string),
  };
}

/** spec 2.15: the model's Django JSON form (FKs as ids, datetimes ISO-8601 with milliseconds and Z). */
export function combinedFinalGradeForAudit(c: CombinedFinalGrade | null): Record<string, unknown> | null {
  if (!c) return null;
  return {
    created_on: c.createdOn.toISOString(),
    updated_on: c.updatedOn.toISOString(),
    user: c.userId,
    course: c.courseId,
    grade: c.grade,
    id: c.id,
  };
}

/** What the combined final grade would be from today's data, or why there would be none. */
export type CombinedFinalGradeProjection =
  | {
      outcome: 'computed';
      grade: number;
      bestFinalGrade: { id: number; grade: number; courseRunId: number };
      bestExamGrade: { id: number; score: number; percentageGrade: number; examRunId: number };
    }
  | { outcome: 'skipped'; reason: 'no-passed-final-grade' | 'no-released-passing-exam-grade' };

function projectFromFact(fact: unknown): CombinedFinalGradeProjection {
  const inputs = (fact ?? { bestFinal: null, bestExam: null }) as Inputs;
  if (!inputs.bestFinal) return { outcome: 'skipped', reason: 'no-passed-final-grade' };
  if (!inputs.bestExam) return { outcome: 'skipped', reason: 'no-released-passing-exam-grade' };
  const bestFinalGrade = { id: inputs.bestFinal.id, grade: Number(inputs.bestFinal.grade), courseRunId: inputs.bestFinal.courseRunId };
  const bestExamGrade = {
    id: inputs.bestExam.id,
    score: Number(inputs.bestExam.score),
    percentageGrade: Number(inputs.bestExam.percentageGrade),
    examRunId: inputs.bestExam.examRunId,
  };
  return { outcome: 'computed', grade: combinedGrade(bestFinalGrade.grade, bestExamGrade.score), bestFinalGrade, bestExamGrade };
}

/** spec 2.11 on today's data, without writing: what `updateOrCreateCombinedFinalGrade` would store. */
export async function projectCombinedFinalGrade(
  ctx: DomainContext,
  userId: number,
  courseId: number,
): Promise<CombinedFinalGradeProjection> {
  const { combined } = await readFacts(ctx.db, { combined: combinedFinalGradeFact(userId, courseId, nowOf(ctx)) });
  return projectFromFact(combined);
}

/** The stored grades_combinedfinalgrade row of (user, course), or null. */
export async function findCombinedFinalGrade(db: Db, userId: number, courseId: number): Promise<CombinedFinalGrade | null> {
  const row = await db('grades_combinedfinalgrade').where({ user_id: userId, course_id: courseId }).first();
  return row ? rowToCombinedFinalGrade(row) : null;
}

/** What the update needs, as one json value: the best final grade and the best released exam grade. */
export function combinedFinalGradeFact(userId: number, courseId: number, now: Date): SqlFragment {
  return {
    sql: `SELECT json_build_object(
      'bestFinal', (SELECT json_build_object('id', f.id, 'grade', f.grade, 'courseRunId', f.course_run_id)
        FROM grades_finalgrade f JOIN courses_courserun r ON r.id = f.course_run_id
        WHERE f.user_id = ? AND r.course_id = ? AND f.status = 'complete' AND f.passed AND f.grade IS NOT NULL
        ORDER BY f.grade DESC, f.id LIMIT 1),
      'bestExam', (SELECT json_build_object('id', g.id, 'score', g.score, 'percentageGrade', g.percentage_grade, 'examRunId', g.exam_run_id)
        FROM grades_proctoredexamgrade g JOIN exams_examrun e ON e.id = g.exam_run_id
        WHERE g.user_id = ? AND g.course_id = ? AND g.passed AND e.date_grades_available <= ?
        ORDER BY g.percentage_grade DESC, g.id LIMIT 1))`,
    bindings: [userId, courseId, userId, courseId, now],
  };
}

/**
 * Upserts grades_combinedfinalgrade on (user, course) and, in the same transaction, writes the
 * grades_combinedfinalgradeaudit row the reference's save_and_log(None) writes (acting user NULL)
 * and gradeops' own audit row naming the operator.
 */
export async function updateOrCreateCombinedFinalGrade(
  ctx: DomainContext,
  subject: AuditSubject,
  courseId: number,
  fact: unknown,
): Promise<CombinedFinalGradeOutcome> {
  const projection = projectFromFact(fact);
  if (projection.outcome === 'skipped') return projection;
  const { grade, bestFinalGrade, bestExamGrade } = projection;

  return ctx.db.transaction(async (trx) => {
    const now = nowOf(ctx);
    const beforeRow = await trx('grades_combinedfinalgrade').where({ user_id: subject.userId, course_id: courseId }).forUpdate().first();
    const before = beforeRow ? rowToCombinedFinalGrade(beforeRow) : null;
    const [savedRow] = await trx('grades_combinedfinalgrade')
      .insert({ user_id: subject.userId, course_id: courseId, grade, created_on: now, updated_on: now })
      .onConflict(['user_id', 'course_id'])
      .merge(['grade', 'updated_on'])
      .returning('*');
    const saved = rowToCombinedFinalGrade(savedRow);
    // spec 1.9: no protection rules on this audit table, so gradeops writes it as the reference does (5b),
    // except that data_before is the real previous row, NULL on create (spec 5b; the reference's
    // second save makes it a copy of data_after, 2.11 step 5).
    await trx('grades_combinedfinalgradeaudit').insert({
      created_on: now,
      updated_on: now,
      acting_user_id: null,
      combined_final_grade_id: saved.id,
      data_before: before ? JSON.stringify(combinedFinalGradeForAudit(before)) : null,
      data_after: JSON.stringify(combinedFinalGradeForAudit(saved)),
    });
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'combined-final-grade',
      ...subject,
      before: combinedFinalGradeForAudit(before),
      after: combinedFinalGradeForAudit(saved),
      detail: { courseId, bestFinalGrade, bestExamGrade },
    });
    return {
      outcome: before ? ('updated' as const) : ('created' as const),
      combinedFinalGrade: saved,
      previousGrade: before?.grade ?? null,
      bestFinalGrade,
      bestExamGrade,
    };
  });
}
