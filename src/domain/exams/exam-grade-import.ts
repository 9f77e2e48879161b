import type { Knex } from 'knex';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { AUDIT_LOG_COLUMNS, djangoTimeSql } from '../audit/django-json-sql.js';
import { rawRows } from '../db.js';
import { parseExamGradeCsv, type ExamGradeFileFormat } from './exam-grade-csv.js';
import { planExamGradeFile, type ExamGradePlan, type ExamGradeRowPlan, type PlannedExamRun } from './exam-grade-plan.js';
import { scoredExamGrade } from './exam-grade-rules.js';
import { proctoredExamGradeJsonSql } from './proctored-exam-grade.js';
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
    warnings: [],
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

const json = (value: unknown) => JSON.stringify(value);

/** spec E21 / 5 item 10: grades that were adjusted (audit rows exist) and that this import overwrites. */
function overwrittenAdjustmentsWarning(ids: number[]): string[] {
  if (ids.length === 0) return [];
  return [
    `${ids.length} of the grades this file updates were adjusted since they were imported (proctored exam grade audit rows exist: ids ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}); the file's scores replace those adjustments`,
  ];
}

// The batch statements below join the file's rows (a jsonb_to_recordset) only to tables, through
// their primary keys, never one CTE to another: PostgreSQL cannot estimate a function's rows and
// would nest-loop two 10,000-row CTEs. An UPDATE reads the row before it in a self-join of its FROM
// (the statement's snapshot), so its RETURNING gives both sides of the audit row.

const GRADE_VALUES = `exam_date = COALESCE(v.exam_date, g.exam_date), passing_score = v.passing_score, score = v.score, grade = v.grade,
  row_data = v.row_data, passed = v.passed, percentage_grade = v.percentage_grade`;

/** gradeops' audit row of a written grade: `file` has the file's line and the username, `grade` the grade's ids. */
function gradeAuditRow(source: string, before: string, after: string, file: string, grade: string): string {
  return `SELECT ?::text, 'proctored-exam-grade', NULL, NULL::integer, ${grade}.user_id, ${file}.username, ${before}, ${after},
    jsonb_build_object('source', '${source}', 'file', ?::text, 'line', ${file}.line, 'examRunId', ${grade}.exam_run_id, 'courseId', ${grade}.course_id)`;
}

async function applyExamGrades(
  ctx: DomainContext,
  trx: Knex.Transaction,
  plan: ExamGradePlan,
  now: Date,
  result: ExamGradeImportResult,
): Promise<void> {
  const graded = plan.examGrades.filter((g) => g.values);
  const row = (g: ExamGradeRowPlan) => ({
    line: g.line,
    existing_id: g.existingId,
    user_id: g.userId,
    username: g.username,
    course_id: g.examRun.courseId,
    exam_run_id: g.examRun.id,
    // spec 2.12 step 6: the exam date is the import instant; a file's exam_date column wins. An
    // unchanged row keeps its date, so a second import of the same file changes nothing (E21).
    exam_date: g.values!.examDate?.toISOString() ?? null,
    passing_score: g.values!.passingScore,
    score: g.values!.score,
    grade: g.values!.grade,
    row_data: g.values!.rowData,
    passed: g.values!.passed,
    percentage_grade: g.values!.percentageGrade,
  });
  const updates = graded.filter((g) => g.existingId !== null).map(row);
  const creates = graded.filter((g) => g.existingId === null).map(row);
  const fileRow = `line integer, existing_id integer, username text, ${GRADE_RECORD}`;

  if (updates.length > 0) {
    // Only what differs is written (jsonb and float equality; the reference rewrites every row, E21).
    const [counts] = rawRows<{ modified: number; adjusted: number[] | null }>(
      await trx.raw(
        `WITH upd AS (
          UPDATE grades_proctoredexamgrade g SET updated_on = ?, ${GRADE_VALUES}
            FROM jsonb_to_recordset(?::jsonb) AS v(${fileRow}) JOIN grades_proctoredexamgrade o ON o.id = v.existing_id
            WHERE g.id = v.existing_id
              AND (g.exam_date, g.passing_score, g.score, g.grade, g.row_data, g.passed, g.percentage_grade)
                IS DISTINCT FROM (COALESCE(v.exam_date, g.exam_date), v.passing_score, v.score, v.grade, v.row_data, v.passed, v.percentage_grade)
            RETURNING g.id, g.user_id, g.course_id, g.exam_run_id, v.line, v.username,
              ${proctoredExamGradeJsonSql('o')} AS before, ${proctoredExamGradeJsonSql('g')} AS after,
              EXISTS (SELECT 1 FROM grades_proctoredexamgradeaudit a WHERE a.proctored_exam_grade_id = g.id) AS adjusted),
        audited AS (
          INSERT INTO gradeops_audit_log (${AUDIT_LOG_COLUMNS}) ${gradeAuditRow('import', 'u.before', 'u.after', 'u', 'u')} FROM upd u)
        SELECT count(*)::integer AS modified, json_agg(u.id ORDER BY u.id) FILTER (WHERE u.adjusted) AS adjusted FROM upd u`,
        [now, json(updates), ctx.operator, plan.fileName],
      ),
    );
    result.modified = counts.modified;
    result.unchanged = updates.length - counts.modified;
    result.warnings.push(...overwrittenAdjustmentsWarning(counts.adjusted ?? []));
  }
  if (creates.length > 0) {
    const inserted = rawRows<{ id: number; user_id: number; exam_run_id: number }>(
      await trx.raw(
        `INSERT INTO grades_proctoredexamgrade (created_on, updated_on, user_id, course_id, exam_run_id, exam_date, passing_score, score, grade,
            client_authorization_id, row_data, passed, percentage_grade)
          SELECT ?, ?, v.user_id, v.course_id, v.exam_run_id, COALESCE(v.exam_date, ?), v.passing_score, v.score, v.grade, NULL, v.row_data, v.passed,
            v.percentage_grade
          FROM jsonb_to_recordset(?::jsonb) AS v(${fileRow})
          RETURNING id, user_id, exam_run_id`,
        [now, now, now, json(creates)],
      ),
    );
    const created = new Map(inserted.map((r) => [`${r.user_id}:${r.exam_run_id}`, r.id]));
    await trx.raw(
      `INSERT INTO gradeops_audit_log (${AUDIT_LOG_COLUMNS})
        ${gradeAuditRow('import', 'NULL::jsonb', proctoredExamGradeJsonSql('g'), 'v', 'g')}
        FROM jsonb_to_recordset(?::jsonb) AS v(id integer, line integer, username text) JOIN grades_proctoredexamgrade g ON g.id = v.id`,
      [
        ctx.operator,
        plan.fileName,
        json(creates.map((c) => ({ id: created.get(`${c.user_id}:${c.exam_run_id}`), line: c.line, username: c.username }))),
      ],
    );
    result.created = inserted.length;
  }

  // The authorizations: exam_taken for a created grade (spec 2.12 step 6), exam_taken and
  // exam_no_show for a no-show (step 5). Only the ones that change are written.
  const marks = new Map<number, { g: ExamGradeRowPlan; noShow: boolean }>();
  for (const g of graded) if (g.existingId === null && !g.authorization.examTaken) marks.set(g.authorization.id, { g, noShow: false });
  for (const g of plan.examGrades.filter((x) => !x.values)) {
    if (g.authorization.examTaken && g.authorization.examNoShow) result.noShows.unchanged += 1;
    else {
      marks.set(g.authorization.id, { g, noShow: true });
      result.noShows.marked += 1;
    }
  }
  if (marks.size > 0) {
    const authorizationJson = (a: string) =>
      `jsonb_build_object('id', ${a}.id, 'user', ${a}.user_id, 'course', ${a}.course_id, 'exam_run', ${a}.exam_run_id, 'status', ${a}.status,
        'exam_taken', ${a}.exam_taken, 'exam_no_show', ${a}.exam_no_show, 'updated_on', ${djangoTimeSql(`${a}.updated_on`)})`;
    await trx.raw(
      `WITH upd AS (
        UPDATE exams_examauthorization a SET exam_taken = true, exam_no_show = a.exam_no_show OR v.no_show, updated_on = ?
          FROM jsonb_to_recordset(?::jsonb) AS v(id integer, no_show boolean, line integer, username text) JOIN exams_examauthorization o ON o.id = v.id
          WHERE a.id = v.id AND (NOT a.exam_taken OR (v.no_show AND NOT a.exam_no_show))
          RETURNING a.user_id, a.exam_run_id, v.line, v.username, v.no_show, ${authorizationJson('o')} AS before, ${authorizationJson('a')} AS after)
      INSERT INTO gradeops_audit_log (${AUDIT_LOG_COLUMNS})
        SELECT ?::text, 'exam-authorization', NULL, NULL::integer, u.user_id, u.username, u.before, u.after,
          jsonb_build_object('source', 'import', 'file', ?::text, 'line', u.line, 'examRunId', u.exam_run_id, 'noShow', u.no_show)
        FROM upd u`,
      [
        now,
        json([...marks].map(([id, m]) => ({ id, no_show: m.noShow, line: m.g.line, username: m.g.username }))),
        ctx.operator,
        plan.fileName,
      ],
    );
  }
}

async function applyAdjustments(
  ctx: DomainContext,
  trx: Knex.Transaction,
  plan: ExamGradePlan,
  now: Date,
  result: ExamGradeImportResult,
): Promise<void> {
  const rows = plan.adjustments.map((a) => {
    const s = scoredExamGrade(a.score, a.grade.passingScore);
    return {
      id: a.grade.id,
      line: a.line,
      username: a.username,
      score: s.score,
      percentage_grade: s.percentageGrade,
      passed: s.passed,
      grade: s.grade,
    };
  });
  // spec 2.12 adjust step 3: only a score that differs (float equality) is set, with the
  // grades_proctoredexamgradeaudit row save_and_log(None) writes (no protection rules, spec 1.8 / 5b)
  // and gradeops' own row naming the operator.
  const [counts] = rawRows<{ modified: number }>(
    await trx.raw(
      `WITH upd AS (
        UPDATE grades_proctoredexamgrade g SET updated_on = ?, score = v.score, percentage_grade = v.percentage_grade, passed = v.passed, grade = v.grade
          FROM jsonb_to_recordset(?::jsonb)
            AS v(id integer, line integer, username text, score double precision, percentage_grade double precision, passed boolean, grade text)
          JOIN grades_proctoredexamgrade o ON o.id = v.id
          WHERE g.id = v.id AND g.score IS DISTINCT FROM v.score
          RETURNING g.id, g.user_id, g.course_id, g.exam_run_id, v.line, v.username, ${proctoredExamGradeJsonSql('o')} AS before,
            ${proctoredExamGradeJsonSql('g')} AS after),
      reference AS (
        INSERT INTO grades_proctoredexamgradeaudit (created_on, updated_on, acting_user_id, proctored_exam_grade_id, data_before, data_after)
          SELECT ?, ?, NULL, u.id, u.before, u.after FROM upd u),
      audited AS (
        INSERT INTO gradeops_audit_log (${AUDIT_LOG_COLUMNS}) ${gradeAuditRow('adjustment', 'u.before', 'u.after', 'u', 'u')} FROM upd u)
      SELECT count(*)::integer AS modified FROM upd`,
      [now, json(rows), now, now, ctx.operator, plan.fileName],
    ),
  );
  result.modified = counts.modified;
  result.unchanged = rows.length - counts.modified;
}
