import type { Knex } from 'knex';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudits, type AuditEntry } from '../audit/audit-log.js';
import { rawRows } from '../db.js';
import { parseExamGradeCsv, type ExamGradeFileFormat } from './exam-grade-csv.js';
import { planExamGradeFile, type ExamGradePlan, type ExamGradeRowPlan, type PlannedExamRun } from './exam-grade-plan.js';
import { scoredExamGrade } from './exam-grade-rules.js';
import { proctoredExamGradeForAudit, rowToProctoredExamGrade, stableJson, type ProctoredExamGrade } from './proctored-exam-grade.js';
import { lockWorkflow } from './workflow-lock.js';

// `gradeops exams import <csv>`: either file of spec 2.12, in one transaction, every change audited.
//
// Exam-grade import (import_edx_exam_grades): upsert on (user, course, exam run) with the exam run's
// passing_score, the score, the grade word, percentage_grade = score / 100, passed = the word is
// "pass", row_data = the row; a created grade marks the authorization exam_taken; a no-show marks
// exam_taken and exam_no_show. Unlike the reference (spec E21) a row whose values are already
// stored is left alone — its exam_date is not reset — so importing a file twice changes nothing.
//
// Adjustment (adjust_exam_grades_from_csv): set_score on each grade whose score differs, with the
// grades_proctoredexamgradeaudit row the reference writes (acting user NULL) beside gradeops' own.

export interface ExamGradeImportResult {
  fileName: string;
  format: ExamGradeFileFormat;
  rows: number;
  created: number;
  modified: number;
  unchanged: number;
  /** Exam-grade import only: authorizations marked no-show by this import, and those already marked. */
  noShows: { marked: number; unchanged: number };
  examRuns: Array<{ id: number; courseId: number; course: string; released: boolean; dateGradesAvailable: string }>;
  programIds: number[];
  warnings: string[];
}

const GRADE_RECORD =
  'user_id integer, course_id integer, exam_run_id integer, exam_date timestamptz, passing_score double precision, score double precision, grade text, row_data jsonb, passed boolean, percentage_grade double precision';

/** Parses and checks `text` on `ctx.db` (the caller's transaction, locked for exam grade writes); writes nothing. */
export async function planExamGradeText(ctx: DomainContext, text: string, fileName: string): Promise<ExamGradePlan> {
  const trx = ctx.db as Knex.Transaction;
  await lockWorkflow(trx, 'exam-grades');
  return planExamGradeFile(trx, parseExamGradeCsv(text, fileName), nowOf(ctx), fileName);
}

/** Applies a checked file on `ctx.db` (the transaction it was planned in). */
export async function applyExamGradePlan(ctx: DomainContext, plan: ExamGradePlan): Promise<ExamGradeImportResult> {
  const trx = ctx.db as Knex.Transaction;
  const now = nowOf(ctx);
  const result: ExamGradeImportResult = {
    fileName: plan.fileName,
    format: plan.format,
    rows: plan.format === 'exam-grades' ? plan.examGrades.length : plan.adjustments.length,
    created: 0,
    modified: 0,
    unchanged: 0,
    noShows: { marked: 0, unchanged: 0 },
    examRuns: plan.examRuns.map((e) => examRunView(e, now)),
    programIds: plan.programIds,
    warnings: plan.warnings,
  };
  if (plan.format === 'exam-grades') await applyExamGrades(ctx, trx, plan, now, result);
  else await applyAdjustments(ctx, trx, plan, now, result);
  return result;
}

/** `gradeops exams import`: one transaction; a bad row anywhere writes nothing. */
export async function importExamGrades(ctx: DomainContext, text: string, fileName: string): Promise<ExamGradeImportResult> {
  return ctx.db.transaction(async (trx) => {
    const c = { ...ctx, db: trx };
    return applyExamGradePlan(c, await planExamGradeText(c, text, fileName));
  });
}

function examRunView(e: PlannedExamRun, now: Date): ExamGradeImportResult['examRuns'][number] {
  return {
    id: e.id,
    courseId: e.courseId,
    course: e.course,
    released: e.dateGradesAvailable.getTime() <= now.getTime(),
    dateGradesAvailable: e.dateGradesAvailable.toISOString(),
  };
}

function gradeAudit(
  ctx: DomainContext,
  source: 'import' | 'adjustment',
  fileName: string,
  line: number,
  username: string,
  before: ProctoredExamGrade | null,
  after: ProctoredExamGrade,
): AuditEntry {
  return {
    operator: ctx.operator,
    action: 'proctored-exam-grade',
    userId: after.userId,
    username,
    before: proctoredExamGradeForAudit(before),
    after: proctoredExamGradeForAudit(after),
    detail: { source, file: fileName, line, examRunId: after.examRunId, courseId: after.courseId },
  };
}

/** The stored values the import would leave as they are, compared with what the row says. */
function sameAsStored(stored: ProctoredExamGrade, row: NonNullable<ExamGradeRowPlan['values']>): boolean {
  return (
    stored.score === row.score &&
    stored.grade === row.grade &&
    stored.passed === row.passed &&
    stored.percentageGrade === row.percentageGrade &&
    stored.passingScore === row.passingScore &&
    stableJson(stored.rowData) === stableJson(row.rowData) &&
    (row.examDate === null || stored.examDate.getTime() === row.examDate.getTime())
  );
}

async function applyExamGrades(
  ctx: DomainContext,
  trx: Knex.Transaction,
  plan: ExamGradePlan,
  now: Date,
  result: ExamGradeImportResult,
): Promise<void> {
  const audits: AuditEntry[] = [];
  const creates = plan.examGrades.filter((g) => g.values && !g.existing);
  const updates = plan.examGrades.filter((g) => g.values && g.existing && !sameAsStored(g.existing, g.values));
  result.unchanged = plan.examGrades.filter((g) => g.values && g.existing).length - updates.length;

  const record = (g: ExamGradeRowPlan, examDate: Date) => ({
    user_id: g.userId,
    course_id: g.examRun.courseId,
    exam_run_id: g.examRun.id,
    exam_date: examDate.toISOString(),
    passing_score: g.values!.passingScore,
    score: g.values!.score,
    grade: g.values!.grade,
    row_data: g.values!.rowData,
    passed: g.values!.passed,
    percentage_grade: g.values!.percentageGrade,
  });
  if (creates.length > 0) {
    const rows = rawRows<Record<string, unknown>>(
      await trx.raw(
        `INSERT INTO grades_proctoredexamgrade (created_on, updated_on, user_id, course_id, exam_run_id, exam_date, passing_score, score, grade,
            client_authorization_id, row_data, passed, percentage_grade)
          SELECT ?, ?, v.user_id, v.course_id, v.exam_run_id, v.exam_date, v.passing_score, v.score, v.grade, NULL, v.row_data, v.passed, v.percentage_grade
          FROM jsonb_to_recordset(?::jsonb) AS v(${GRADE_RECORD})
          RETURNING *`,
        // spec 2.12 step 6: the exam date is the import instant (or the file's exam_date).
        [now, now, JSON.stringify(creates.map((g) => record(g, g.values!.examDate ?? now)))],
      ),
    ).map(rowToProctoredExamGrade);
    const byPair = new Map(rows.map((g) => [`${g.userId}:${g.examRunId}`, g]));
    for (const g of creates)
      audits.push(gradeAudit(ctx, 'import', plan.fileName, g.line, g.username, null, byPair.get(`${g.userId}:${g.examRun.id}`)!));
    result.created = rows.length;
  }
  if (updates.length > 0) {
    const rows = rawRows<Record<string, unknown>>(
      await trx.raw(
        `UPDATE grades_proctoredexamgrade g SET updated_on = ?, exam_date = v.exam_date, passing_score = v.passing_score, score = v.score,
            grade = v.grade, row_data = v.row_data, passed = v.passed, percentage_grade = v.percentage_grade
          FROM jsonb_to_recordset(?::jsonb) AS v(id integer, ${GRADE_RECORD}) WHERE g.id = v.id RETURNING g.*`,
        [now, JSON.stringify(updates.map((g) => ({ id: g.existing!.id, ...record(g, g.values!.examDate ?? g.existing!.examDate) })))],
      ),
    ).map(rowToProctoredExamGrade);
    const byId = new Map(rows.map((g) => [g.id, g]));
    for (const g of updates)
      audits.push(gradeAudit(ctx, 'import', plan.fileName, g.line, g.username, g.existing, byId.get(g.existing!.id)!));
    result.modified = rows.length;
  }

  // The authorizations: exam_taken for a created grade (spec 2.12 step 6), exam_taken and
  // exam_no_show for a no-show (step 5). Only the ones that change are written.
  const marks = new Map<number, { g: ExamGradeRowPlan; noShow: boolean }>();
  for (const g of creates) if (!g.authorization.examTaken) marks.set(g.authorization.id, { g, noShow: false });
  for (const g of plan.examGrades.filter((x) => !x.values)) {
    if (g.authorization.examTaken && g.authorization.examNoShow) result.noShows.unchanged += 1;
    else {
      marks.set(g.authorization.id, { g, noShow: true });
      result.noShows.marked += 1;
    }
  }
  if (marks.size > 0) {
    const rows = rawRows<Record<string, unknown>>(
      await trx.raw(
        `UPDATE exams_examauthorization a SET exam_taken = true, exam_no_show = a.exam_no_show OR v.no_show, updated_on = ?
          FROM jsonb_to_recordset(?::jsonb) AS v(id integer, no_show boolean) WHERE a.id = v.id
          RETURNING a.id, a.user_id, a.course_id, a.exam_run_id, a.status, a.exam_taken, a.exam_no_show, a.updated_on`,
        [now, JSON.stringify([...marks].map(([id, m]) => ({ id, no_show: m.noShow })))],
      ),
    );
    for (const r of rows) {
      const { g, noShow } = marks.get(r.id as number)!;
      audits.push({
        operator: ctx.operator,
        action: 'exam-authorization',
        userId: g.userId,
        username: g.username,
        before: { id: r.id, exam_taken: g.authorization.examTaken, exam_no_show: g.authorization.examNoShow },
        after: {
          id: r.id,
          exam_taken: r.exam_taken,
          exam_no_show: r.exam_no_show,
          updated_on: new Date(r.updated_on as string).toISOString(),
        },
        detail: { source: 'import', file: plan.fileName, line: g.line, examRunId: g.examRun.id, noShow },
      });
    }
  }
  await writeAudits(trx, audits);
}

async function applyAdjustments(
  ctx: DomainContext,
  trx: Knex.Transaction,
  plan: ExamGradePlan,
  now: Date,
  result: ExamGradeImportResult,
): Promise<void> {
  // spec 2.12 adjust step 3: only a score that differs (float equality) is set.
  const changes = plan.adjustments.filter((a) => a.grade.score !== a.score);
  result.unchanged = plan.adjustments.length - changes.length;
  if (changes.length === 0) return;
  const rows = rawRows<Record<string, unknown>>(
    await trx.raw(
      `UPDATE grades_proctoredexamgrade g SET updated_on = ?, score = v.score, percentage_grade = v.percentage_grade, passed = v.passed, grade = v.grade
        FROM jsonb_to_recordset(?::jsonb) AS v(id integer, score double precision, percentage_grade double precision, passed boolean, grade text)
        WHERE g.id = v.id RETURNING g.*`,
      [
        now,
        JSON.stringify(
          changes.map((a) => {
            const s = scoredExamGrade(a.score, a.grade.passingScore);
            return { id: a.grade.id, score: s.score, percentage_grade: s.percentageGrade, passed: s.passed, grade: s.grade };
          }),
        ),
      ],
    ),
  ).map(rowToProctoredExamGrade);
  const byId = new Map(rows.map((g) => [g.id, g]));
  const written = changes.map((a) => ({ a, after: byId.get(a.grade.id)! }));
  // spec 1.8 / 5b: no protection rules on this audit table, so gradeops writes it as save_and_log(None) does.
  await trx.raw(
    `INSERT INTO grades_proctoredexamgradeaudit (created_on, updated_on, acting_user_id, proctored_exam_grade_id, data_before, data_after)
      SELECT ?, ?, NULL, v.id, v.data_before, v.data_after FROM jsonb_to_recordset(?::jsonb) AS v(id integer, data_before jsonb, data_after jsonb)`,
    [
      now,
      now,
      JSON.stringify(
        written.map(({ a, after }) => ({
          id: after.id,
          data_before: proctoredExamGradeForAudit(a.grade),
          data_after: proctoredExamGradeForAudit(after),
        })),
      ),
    ],
  );
  await writeAudits(
    trx,
    written.map(({ a, after }) => gradeAudit(ctx, 'adjustment', plan.fileName, a.line, a.username, a.grade, after)),
  );
  result.modified = rows.length;
}
