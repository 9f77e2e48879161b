import { z } from 'zod';
import type { Db } from '../db.js';
import { rawRows } from '../db.js';
import { ExamFileError, type RowProblem } from './exam-file-error.js';
import type { ExamGradeFileFormat, ParsedExamGradeFile } from './exam-grade-csv.js';
import { fractionPassingScoreReason, isFractionPassingScore, MAX_EXAM_SCORE, MIN_EXAM_SCORE } from './exam-grade-rules.js';
import { parseIsoInstant } from './iso-instant.js';

// Checks every row of an exam grade file against the database and says what each row would do.
// Every bad row is reported with its line; one bad row means the file writes nothing (issue 9).
// Where the reference skips a row or aborts half-way (spec 2.12, E22), gradeops refuses the file.

export interface PlannedExamRun {
  id: number;
  courseId: number;
  course: string;
  programId: number;
  passingScore: number;
  dateGradesAvailable: Date;
}

export interface ExamGradeValues {
  score: number;
  /** The CSV's grade word as written (trimmed), spec 2.12. */
  grade: string;
  passed: boolean;
  percentageGrade: number;
  passingScore: number;
  rowData: Record<string, string>;
  /** From an `exam_date` column when the file has one. */
  examDate: Date | null;
}

/** A row of the exam-grade import file, resolved. */
export interface ExamGradeRowPlan {
  line: number;
  userId: number;
  username: string;
  examRun: PlannedExamRun;
  authorization: { id: number; examTaken: boolean; examNoShow: boolean };
  /** null: a no-show (spec 2.12 step 5: the authorization is marked, no grade). */
  values: ExamGradeValues | null;
  /** The grade the upsert updates (null: it creates one). */
  existingId: number | null;
}

/** What an adjustment needs of the grade it sets the score of. */
export interface AdjustedGrade {
  id: number;
  userId: number;
  courseId: number;
  examRunId: number | null;
  passingScore: number;
}

/** A row of the adjustment file, resolved. */
export interface AdjustmentRowPlan {
  line: number;
  grade: AdjustedGrade;
  username: string;
  course: string;
  programId: number;
  score: number;
}

export interface ExamGradePlan {
  format: ExamGradeFileFormat;
  fileName: string;
  examGrades: ExamGradeRowPlan[];
  adjustments: AdjustmentRowPlan[];
  /** The exam runs whose grades the file writes. */
  examRuns: PlannedExamRun[];
  courseIds: number[];
  programIds: number[];
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const shown = (value: unknown) => JSON.stringify(typeof value === 'string' || typeof value === 'number' ? String(value) : '');

const scoreField = z
  .string({ error: 'the file has no score column' })
  .trim()
  .min(1, { error: 'score is empty', abort: true })
  .regex(DECIMAL, { error: (i) => `score must be a number, not ${shown(i.input)}` })
  .transform(Number)
  .pipe(
    z
      .number()
      .min(MIN_EXAM_SCORE, { error: (i) => `score ${String(i.input)} is below ${MIN_EXAM_SCORE}` })
      .max(MAX_EXAM_SCORE, { error: (i) => `score ${String(i.input)} is above ${MAX_EXAM_SCORE}` }),
  );

const wholeNumber = (column: string, what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `${column} must be ${what} (a whole number), not ${shown(i.input)}` })
    .transform(Number);

const examGradeRow = z.object({
  username: z.string().trim().min(1, { error: 'username is empty' }),
  course_id: wholeNumber('course_id', 'a MicroMasters course id'),
  // spec 2.12 step 5: non-zero means no-show; anything but 0 or 1 is more likely a shifted column.
  no_show: z
    .string()
    .trim()
    .regex(/^[01]$/, { error: (i) => `no_show must be 0 or 1, not ${shown(i.input)}` })
    .transform((v) => v === '1'),
  exam_date: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return null;
      const at = parseIsoInstant(v);
      if (!at) ctx.addIssue({ code: 'custom', message: `exam_date ${shown(v)} is not an ISO-8601 date or date-time` });
      return at;
    }),
});

const scoredRow = z.object({
  score: scoreField,
  // spec 2.12: the word decides the pass, whatever its case.
  grade: z
    .string({ error: 'the file has no grade column' })
    .trim()
    .refine((v) => /^(pass|fail)$/i.test(v), { error: (i) => `grade must be pass or fail, not ${shown(i.input)}` }),
});

const adjustmentRow = z.object({
  proctoredexam_id: wholeNumber('proctoredexam_id', 'a proctored exam grade id'),
  score: scoreField,
});

class Problems {
  readonly list: RowProblem[] = [];
  private readonly lines = new Set<number>();
  add(line: number, reason: string): void {
    this.list.push({ line, reason });
    this.lines.add(line);
  }
  has(line: number): boolean {
    return this.lines.has(line);
  }
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => i.message);
}

/** Resolves and checks every row; throws ExamFileError listing every bad row. */
export async function planExamGradeFile(db: Db, parsed: ParsedExamGradeFile, now: Date, fileName: string): Promise<ExamGradePlan> {
  const problems = new Problems();
  for (const p of parsed.problems) problems.add(p.line, p.reason);
  const plan =
    parsed.format === 'exam-grades'
      ? await planExamGrades(db, parsed, now, fileName, problems)
      : await planAdjustments(db, parsed, fileName, problems);
  if (problems.list.length > 0) throw new ExamFileError(fileName, mergeByLine(problems.list));
  return plan;
}

/** One entry per line, its reasons joined, so an operator reads each bad row once. */
function mergeByLine(list: RowProblem[]): RowProblem[] {
  const byLine = new Map<number, string[]>();
  for (const p of list) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p.reason]);
  return [...byLine].sort((a, b) => a[0] - b[0]).map(([line, reasons]) => ({ line, reason: reasons.join('; ') }));
}

const json = (values: unknown) => JSON.stringify(values);

async function planExamGrades(
  db: Db,
  parsed: ParsedExamGradeFile,
  now: Date,
  fileName: string,
  problems: Problems,
): Promise<ExamGradePlan> {
  interface Checked {
    line: number;
    uid: string;
    courseId: number;
    noShow: boolean;
    examDate: Date | null;
    scored: { score: number; grade: string; passed: boolean } | null;
    values: Record<string, string>;
  }
  const checked: Checked[] = [];
  const firstLine = new Map<string, number>();
  for (const record of parsed.records) {
    // One learner's result in one course's exam run appears once; checked on the raw values, so a
    // duplicate is reported even when the other row is bad for another reason.
    const uid = record.values.username?.trim() ?? '';
    const course = record.values.course_id?.trim() ?? '';
    if (uid !== '' && course !== '') {
      const first = firstLine.get(`${uid}\u0000${course}`);
      if (first !== undefined) problems.add(record.line, `duplicate: line ${first} already has the result of "${uid}" in course ${course}`);
      else firstLine.set(`${uid}\u0000${course}`, record.line);
    }
    const base = examGradeRow.safeParse(record.values);
    if (!base.success) {
      for (const m of issuesOf(base.error)) problems.add(record.line, m);
      continue;
    }
    let scored: Checked['scored'] = null;
    if (!base.data.no_show) {
      const s = scoredRow.safeParse(record.values);
      if (!s.success) {
        for (const m of issuesOf(s.error)) problems.add(record.line, m);
        continue;
      }
      // spec 2.12 step 6: passed = the grade word is "pass"; the score is not compared with the passing score.
      scored = { score: s.data.score, grade: s.data.grade, passed: s.data.grade.toLowerCase() === 'pass' };
    }
    checked.push({
      line: record.line,
      uid: base.data.username,
      courseId: base.data.course_id,
      noShow: base.data.no_show,
      examDate: base.data.exam_date,
      scored,
      values: record.values,
    });
  }

  // spec 2.12 step 1 and spec 5 item 4: `username` is the MITx Online username (social-auth uid).
  const uids = [...new Set(checked.map((c) => c.uid))];
  const learners = new Map(
    rawRows<{ uid: string; user_id: number; username: string }>(
      await db.raw(
        `SELECT s.uid, s.user_id, u.username FROM social_auth_usersocialauth s JOIN auth_user u ON u.id = s.user_id
          WHERE s.provider = 'mitxonline' AND s.uid IN (SELECT value FROM json_array_elements_text(?::json))`,
        [json(uids)],
      ),
    ).map((r) => [r.uid, r]),
  );
  const unknownUids = uids.filter((u) => !learners.has(u));
  const micromastersNames = new Set(
    unknownUids.length === 0
      ? []
      : rawRows<{ username: string }>(
          await db.raw(`SELECT username FROM auth_user WHERE username IN (SELECT value FROM json_array_elements_text(?::json))`, [
            json(unknownUids),
          ]),
        ).map((r) => r.username),
  );

  // spec 2.12 steps 2–3: course_id is courses_course.id; its exam run is the one, among those whose
  // scheduling has started, with the latest date_last_schedulable.
  const courseIds = [...new Set(checked.map((c) => c.courseId))];
  const courses = new Map(
    rawRows<{
      id: number;
      course: string;
      program_id: number;
      exam_run_id: number | null;
      passing_score: number | null;
      date_grades_available: Date | null;
    }>(
      await db.raw(
        `SELECT c.id, COALESCE(c.course_number, c.title) AS course, c.program_id, e.id AS exam_run_id, e.passing_score, e.date_grades_available
          FROM courses_course c
          LEFT JOIN LATERAL (SELECT x.id, x.passing_score, x.date_grades_available FROM exams_examrun x
            WHERE x.course_id = c.id AND x.date_first_schedulable <= ? ORDER BY x.date_last_schedulable DESC, x.id DESC LIMIT 1) e ON true
          WHERE c.id IN (SELECT value::integer FROM json_array_elements_text(?::json))`,
        [now, json(courseIds)],
      ),
    ).map((r) => [r.id, r]),
  );

  interface Resolved extends Checked {
    userId: number;
    username: string;
    examRun: PlannedExamRun;
  }
  const resolved: Resolved[] = [];
  const examRunOfCourse = new Map<number, PlannedExamRun>();
  for (const c of checked) {
    const learner = learners.get(c.uid);
    const course = courses.get(c.courseId);
    if (!learner) {
      problems.add(
        c.line,
        micromastersNames.has(c.uid)
          ? `unknown learner: "${c.uid}" is a MicroMasters username, but the file must carry the MITx Online username (spec 5 item 4)`
          : `unknown learner: no MITx Online account has the username "${c.uid}"`,
      );
    }
    if (!course) problems.add(c.line, `unknown course: no course has the id ${c.courseId}`);
    else if (course.exam_run_id === null)
      problems.add(c.line, `course ${course.course} (id ${course.id}) has no exam run whose scheduling has started`);
    if (!learner || !course || course.exam_run_id === null) continue;
    let examRun = examRunOfCourse.get(course.id);
    if (!examRun) {
      examRun = {
        id: course.exam_run_id,
        courseId: course.id,
        course: course.course,
        programId: course.program_id,
        passingScore: Number(course.passing_score),
        dateGradesAvailable: new Date(course.date_grades_available!),
      };
      examRunOfCourse.set(course.id, examRun);
    }
    if (problems.has(c.line)) continue;
    // spec 5b "exam passing scale": the grade would copy a 0–1 passing score next to a 0–100 score.
    if (c.scored && isFractionPassingScore(examRun.passingScore)) {
      problems.add(c.line, fractionPassingScoreReason(`exam run ${examRun.id} (${examRun.course})`, examRun.passingScore));
      continue;
    }
    resolved.push({ ...c, userId: learner.user_id, username: learner.username, examRun });
  }

  // spec 2.12 step 4: the learner's authorization for that exam run (a successful one first).
  const pairs = json(resolved.map((r) => ({ user_id: r.userId, exam_run_id: r.examRun.id })));
  const authorizations = new Map(
    rawRows<{ id: number; user_id: number; exam_run_id: number; exam_taken: boolean; exam_no_show: boolean }>(
      await db.raw(
        `SELECT DISTINCT ON (a.user_id, a.exam_run_id) a.id, a.user_id, a.exam_run_id, a.exam_taken, a.exam_no_show
          FROM exams_examauthorization a JOIN (SELECT DISTINCT * FROM jsonb_to_recordset(?::jsonb) AS v(user_id integer, exam_run_id integer)) v
            ON a.user_id = v.user_id AND a.exam_run_id = v.exam_run_id
          ORDER BY a.user_id, a.exam_run_id, (a.status = 'success') DESC, a.id DESC`,
        [pairs],
      ),
    ).map((r) => [`${r.user_id}:${r.exam_run_id}`, r]),
  );
  // The grades the upsert would touch, locked until the import commits.
  const existing = new Map<string, Array<{ id: number; courseId: number }>>();
  for (const row of rawRows<{ id: number; user_id: number; course_id: number; exam_run_id: number }>(
    await db.raw(
      `SELECT g.id, g.user_id, g.course_id, g.exam_run_id FROM grades_proctoredexamgrade g
        JOIN (SELECT DISTINCT * FROM jsonb_to_recordset(?::jsonb) AS v(user_id integer, exam_run_id integer)) v
        ON g.user_id = v.user_id AND g.exam_run_id = v.exam_run_id ORDER BY g.id FOR UPDATE OF g`,
      [pairs],
    ),
  )) {
    const key = `${row.user_id}:${row.exam_run_id}`;
    existing.set(key, [...(existing.get(key) ?? []), { id: row.id, courseId: row.course_id }]);
  }

  const examGrades: ExamGradeRowPlan[] = [];
  for (const r of resolved) {
    const key = `${r.userId}:${r.examRun.id}`;
    const authorization = authorizations.get(key);
    if (!authorization) {
      problems.add(r.line, `${r.username} has no exam authorization for exam run ${r.examRun.id} (${r.examRun.course})`);
      continue;
    }
    // The reference upserts on (user, course, exam run), which has no unique constraint (spec 1.8).
    const grades = (existing.get(key) ?? []).filter((g) => g.courseId === r.courseId);
    if (grades.length > 1) {
      problems.add(
        r.line,
        `${r.username} already has ${grades.length} proctored exam grades (ids ${grades.map((g) => g.id).join(', ')}) in exam run ${r.examRun.id}; the import cannot tell which to update (spec E22): delete the extra one first`,
      );
      continue;
    }
    examGrades.push({
      line: r.line,
      userId: r.userId,
      username: r.username,
      examRun: r.examRun,
      authorization: { id: authorization.id, examTaken: authorization.exam_taken, examNoShow: authorization.exam_no_show },
      values: r.scored
        ? {
            score: r.scored.score,
            grade: r.scored.grade,
            passed: r.scored.passed,
            percentageGrade: r.scored.score / 100,
            passingScore: r.examRun.passingScore,
            rowData: r.values,
            examDate: r.examDate,
          }
        : null,
      existingId: grades[0]?.id ?? null,
    });
  }

  const examRuns = [...new Map(examGrades.map((g) => [g.examRun.id, g.examRun])).values()].sort((a, b) => a.id - b.id);
  return {
    format: 'exam-grades',
    fileName,
    examGrades,
    adjustments: [],
    examRuns,
    courseIds: [...new Set(examRuns.map((e) => e.courseId))].sort((a, b) => a - b),
    programIds: [...new Set(examRuns.map((e) => e.programId))].sort((a, b) => a - b),
  };
}

async function planAdjustments(db: Db, parsed: ParsedExamGradeFile, fileName: string, problems: Problems): Promise<ExamGradePlan> {
  const checked: Array<{ line: number; id: number; score: number }> = [];
  const firstLine = new Map<string, number>();
  for (const record of parsed.records) {
    // spec 2.12 adjust step 1 lets the last of duplicate ids win; a curve file naming a grade twice is a mistake.
    const id = record.values.proctoredexam_id?.trim() ?? '';
    const first = firstLine.get(id);
    if (id !== '' && first !== undefined) problems.add(record.line, `duplicate: line ${first} already adjusts proctored exam grade ${id}`);
    else if (id !== '') firstLine.set(id, record.line);
    const r = adjustmentRow.safeParse(record.values);
    if (!r.success) for (const m of issuesOf(r.error)) problems.add(record.line, m);
    else checked.push({ line: record.line, id: r.data.proctoredexam_id, score: r.data.score });
  }
  const grades = new Map(
    rawRows<Record<string, unknown>>(
      await db.raw(
        `SELECT g.id, g.user_id, g.course_id, g.exam_run_id, g.passing_score, u.username AS _username,
            COALESCE(c.course_number, c.title) AS _course, c.program_id AS _program_id,
            e.passing_score AS _run_passing_score, e.date_grades_available AS _run_grades_available
          FROM grades_proctoredexamgrade g JOIN auth_user u ON u.id = g.user_id JOIN courses_course c ON c.id = g.course_id
          LEFT JOIN exams_examrun e ON e.id = g.exam_run_id
          WHERE g.id IN (SELECT value::integer FROM json_array_elements_text(?::json)) ORDER BY g.id FOR UPDATE OF g`,
        [json([...new Set(checked.map((c) => c.id))])],
      ),
    ).map((r) => [r.id as number, r]),
  );
  const adjustments: AdjustmentRowPlan[] = [];
  const examRuns = new Map<number, PlannedExamRun>();
  for (const c of checked) {
    const row = grades.get(c.id);
    if (problems.has(c.line)) continue;
    if (!row) {
      problems.add(c.line, `unknown exam grade: no proctored exam grade has the id ${c.id}`);
      continue;
    }
    const grade: AdjustedGrade = {
      id: row.id as number,
      userId: row.user_id as number,
      courseId: row.course_id as number,
      examRunId: (row.exam_run_id as number | null) ?? null,
      passingScore: Number(row.passing_score),
    };
    // spec 5b "exam passing scale": set_score compares the score with the grade's own passing_score.
    if (isFractionPassingScore(grade.passingScore)) {
      problems.add(
        c.line,
        fractionPassingScoreReason(
          `proctored exam grade ${grade.id} (${row._username as string}, ${row._course as string})`,
          grade.passingScore,
        ),
      );
      continue;
    }
    const plan: AdjustmentRowPlan = {
      line: c.line,
      grade,
      username: row._username as string,
      course: row._course as string,
      programId: row._program_id as number,
      score: c.score,
    };
    adjustments.push(plan);
    if (grade.examRunId !== null && !examRuns.has(grade.examRunId)) {
      examRuns.set(grade.examRunId, {
        id: grade.examRunId,
        courseId: grade.courseId,
        course: plan.course,
        programId: plan.programId,
        passingScore: Number(row._run_passing_score),
        dateGradesAvailable: new Date(row._run_grades_available as string),
      });
    }
  }
  const runs = [...examRuns.values()].sort((a, b) => a.id - b.id);
  return {
    format: 'adjustment',
    fileName,
    examGrades: [],
    adjustments,
    examRuns: runs,
    courseIds: [...new Set(adjustments.map((a) => a.grade.courseId))].sort((a, b) => a - b),
    programIds: [...new Set(adjustments.map((a) => a.programId))].sort((a, b) => a - b),
  };
}
