import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { inRolledBackTransaction, rawRows, type Db } from '../db.js';
import { isOpsError, OpsError } from '../errors.js';
import { populateCombinedFinalGrades } from '../combined-grades/populate-combined-final-grades.js';
import { generateCertificates } from './certificates.js';
import { releasedPassingExamGrades } from './exam-grade-rules.js';

// What the database says about one exam run's runbook (issue 9 §7): the facts behind the console's
// checklist. "Combined grades updated" and "certificates generated" are not counts but the answer
// of the real commands run in a transaction that rolls back: done when `combined-grades populate
// --course` and `certificates generate --program` would change nothing. So the checklist and the
// commands cannot disagree (one code path), and a grade changed since the last populate shows as
// pending again.

/** One exam run as the exam runs list shows it. */
export interface ExamRunSummary {
  id: number;
  courseId: number;
  /** The course number (14.73x), or its title when it has none. */
  course: string;
  courseTitle: string;
  programId: number;
  program: string;
  semester: string | null;
  examSeriesCode: string;
  dateFirstSchedulable: Date;
  dateLastSchedulable: Date;
  dateGradesAvailable: Date;
  passingScore: number;
  /** Learners with a successful exam authorization for this exam run. */
  authorizedLearners: number;
  /** grades_proctoredexamgrade rows of this exam run, and how many are passed. */
  grades: { total: number; passed: number };
  /** date_grades_available ≤ now (spec 2.12 "Release semantics"). */
  released: boolean;
}

/** What `combined-grades populate` or `certificates generate` would still do; `notApplicable` says why it never runs here. */
export type PendingWork<T> = { applicable: true; pending: T } | { applicable: false; reason: string };

export interface ExamRunState extends ExamRunSummary {
  /** Learners with a released, passed grade in this exam run, and how many of them have a combined final grade for the course. */
  combinedGrades: { due: number; present: number };
  /** Of the learners with a passed grade in this exam run, those holding the course's certificate; program certificates of the program. */
  certificates: { courseCertificates: number; programCertificates: number };
  /** `combined-grades populate --course <course>` now, rolled back. */
  populate: PendingWork<{ created: number; updated: number }>;
  /** `certificates generate --program <program>` now, rolled back. */
  generate: PendingWork<{ courseCertificates: number; programCertificates: number }>;
}

interface SummaryRow {
  id: number;
  course_id: number;
  course: string;
  course_title: string;
  program_id: number;
  program: string;
  semester: string | null;
  exam_series_code: string;
  date_first_schedulable: Date | string;
  date_last_schedulable: Date | string;
  date_grades_available: Date | string;
  passing_score: number;
  authorized: number;
  grades: number;
  passed: number;
}

function rowToExamRunSummary(r: SummaryRow, now: Date): ExamRunSummary {
  const gradesAvailable = new Date(r.date_grades_available);
  return {
    id: r.id,
    courseId: r.course_id,
    course: r.course,
    courseTitle: r.course_title,
    programId: r.program_id,
    program: r.program,
    semester: r.semester,
    examSeriesCode: r.exam_series_code,
    dateFirstSchedulable: new Date(r.date_first_schedulable),
    dateLastSchedulable: new Date(r.date_last_schedulable),
    dateGradesAvailable: gradesAvailable,
    passingScore: Number(r.passing_score),
    authorizedLearners: Number(r.authorized),
    grades: { total: Number(r.grades), passed: Number(r.passed) },
    released: gradesAvailable.getTime() <= now.getTime(),
  };
}

const SUMMARY_SQL = `SELECT e.id, e.course_id, COALESCE(c.course_number, c.title) AS course, c.title AS course_title, p.id AS program_id,
    p.title AS program, e.semester, e.exam_series_code, e.date_first_schedulable, e.date_last_schedulable, e.date_grades_available,
    e.passing_score,
    (SELECT count(DISTINCT a.user_id)::integer FROM exams_examauthorization a WHERE a.exam_run_id = e.id AND a.status = 'success') AS authorized,
    (SELECT count(*)::integer FROM grades_proctoredexamgrade g WHERE g.exam_run_id = e.id) AS grades,
    (SELECT count(*)::integer FROM grades_proctoredexamgrade g WHERE g.exam_run_id = e.id AND g.passed) AS passed
  FROM exams_examrun e JOIN courses_course c ON c.id = e.course_id JOIN courses_program p ON p.id = c.program_id`;

/** Every exam run, the latest first (the one whose file has just come in is at the top). */
export async function listExamRuns(db: Db, now: Date): Promise<ExamRunSummary[]> {
  const rows = rawRows<SummaryRow>(await db.raw(`${SUMMARY_SQL} ORDER BY e.date_last_schedulable DESC, e.id DESC`));
  return rows.map((r) => rowToExamRunSummary(r, now));
}

/** The state of one exam run's runbook steps, as far as the database holds them. Writes nothing. */
export async function examRunState(ctx: DomainContext, examRunId: number): Promise<ExamRunState> {
  const now = nowOf(ctx);
  return inRolledBackTransaction(ctx.db, async (trx) => {
    const [row] = rawRows<SummaryRow>(await trx.raw(`${SUMMARY_SQL} WHERE e.id = ?`, [examRunId]));
    if (!row)
      throw new OpsError(
        'unknown-exam-run',
        `no exam run has the id ${examRunId}`,
        'pick an exam run from the list (p on the course runs screen) or use exams_examrun.id',
      );
    const summary = rowToExamRunSummary(row, now);
    const released = releasedPassingExamGrades('g', 'e');
    const [facts] = rawRows<{ due: number; combined: number; course_certificates: number; program_certificates: number }>(
      await trx.raw(
        `SELECT
          (SELECT count(DISTINCT g.user_id)::integer FROM ${released.from} WHERE g.exam_run_id = ? AND ${released.where}) AS due,
          (SELECT count(DISTINCT g.user_id)::integer FROM ${released.from} WHERE g.exam_run_id = ? AND ${released.where}
            AND EXISTS (SELECT 1 FROM grades_combinedfinalgrade cf WHERE cf.user_id = g.user_id AND cf.course_id = g.course_id)) AS combined,
          (SELECT count(DISTINCT g.user_id)::integer FROM grades_proctoredexamgrade g WHERE g.exam_run_id = ? AND g.passed
            AND EXISTS (SELECT 1 FROM grades_micromasterscoursecertificate cc WHERE cc.user_id = g.user_id AND cc.course_id = g.course_id))
            AS course_certificates,
          (SELECT count(*)::integer FROM grades_micromastersprogramcertificate pc WHERE pc.program_id = ?) AS program_certificates`,
        [examRunId, now, examRunId, now, examRunId, summary.programId],
      ),
    );
    const c = { ...ctx, db: trx };
    const populate = await whenApplicable(async () => {
      const r = await populateCombinedFinalGrades(c, { courseId: summary.courseId });
      return { created: r.created, updated: r.updated };
    });
    const generate = await whenApplicable(async () => {
      const r = await generateCertificates(c, { programId: summary.programId });
      return { courseCertificates: r.courseCertificates.created, programCertificates: r.programCertificates.created };
    });
    return {
      ...summary,
      combinedGrades: { due: Number(facts.due), present: Number(facts.combined) },
      certificates: { courseCertificates: Number(facts.course_certificates), programCertificates: Number(facts.program_certificates) },
      populate,
      generate,
    };
  });
}

/** The command's refusal "nothing to do here" (a course without a frozen run, say) is a state, not an error. */
async function whenApplicable<T>(work: () => Promise<T>): Promise<PendingWork<T>> {
  try {
    return { applicable: true, pending: await work() };
  } catch (error) {
    if (isOpsError(error) && error.code === 'nothing-to-do') return { applicable: false, reason: error.message };
    throw error;
  }
}
