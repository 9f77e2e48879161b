import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { updateOrCreateCombinedFinalGrades, type CombinedFinalGradeCounts } from '../combined-grades/combined-final-grade.js';
import { rawRows } from '../db.js';
import { OpsError } from '../errors.js';
import { lockWorkflow } from './workflow-lock.js';

// `gradeops exams release <exam-run-id> [--at]` (spec 2.12 "Release semantics"): releasing is
// setting the exam run's date_grades_available to an instant; grades count from that instant on.
// The ExamRun save fires its signal (spec 2.8): learners who already have a combined final grade
// for the course and a grade in this exam run get it recomputed. Everyone else waits for
// `combined-grades populate` (spec 5 item 3), which the result says.

export type ReleaseOutcome = 'released' | 'scheduled' | 'already-released' | 'unchanged';

export interface ReleaseResult {
  examRunId: number;
  courseId: number;
  course: string;
  outcome: ReleaseOutcome;
  /** date_grades_available before and after (ISO). */
  before: string;
  after: string;
  /** Grades in the exam run, and how many of them count once released (passed). */
  grades: { total: number; passed: number };
  /** The ExamRun-save side effect: existing combined grades recomputed. */
  combinedFinalGrades: CombinedFinalGradeCounts;
}

interface ExamRunRow {
  id: number;
  course_id: number;
  course: string;
  date_grades_available: Date;
  updated_on: Date;
  total: number;
  passed: number;
}

export async function releaseExamRun(ctx: DomainContext, examRunId: number, options: { at?: Date } = {}): Promise<ReleaseResult> {
  return ctx.db.transaction(async (trx) => {
    const now = nowOf(ctx);
    await lockWorkflow(trx, 'exam-grades');
    const [run] = rawRows<ExamRunRow>(
      await trx.raw(
        `SELECT e.id, e.course_id, e.date_grades_available, e.updated_on, COALESCE(c.course_number, c.title) AS course,
            (SELECT count(*)::integer FROM grades_proctoredexamgrade g WHERE g.exam_run_id = e.id) AS total,
            (SELECT count(*)::integer FROM grades_proctoredexamgrade g WHERE g.exam_run_id = e.id AND g.passed) AS passed
          FROM exams_examrun e JOIN courses_course c ON c.id = e.course_id WHERE e.id = ? FOR UPDATE OF e`,
        [examRunId],
      ),
    );
    if (!run) {
      throw new OpsError(
        'unknown-exam-run',
        `no exam run has the id ${examRunId}`,
        'use exams_examrun.id; `gradeops exams import` and `gradeops exams project` name the exam runs a file writes',
      );
    }
    const current = new Date(run.date_grades_available);
    const at = options.at ?? now;
    const base = {
      examRunId: run.id,
      courseId: run.course_id,
      course: run.course,
      before: current.toISOString(),
      grades: { total: Number(run.total), passed: Number(run.passed) },
      combinedFinalGrades: { created: 0, updated: 0, unchanged: 0, skipped: 0 },
    };
    const released = current.getTime() <= now.getTime();
    if (options.at === undefined && released) return { ...base, outcome: 'already-released' as const, after: base.before };
    if (current.getTime() === at.getTime()) return { ...base, outcome: 'unchanged' as const, after: base.before };
    if (released && at.getTime() > now.getTime()) {
      throw new OpsError(
        'conflict',
        `exam run ${run.id} (${run.course}) was released on ${base.before}; moving its date to ${at.toISOString()} would hide grades that combined grades and certificates may already use`,
        'leave out --at, or give an instant in the past',
      );
    }

    await trx('exams_examrun').where('id', run.id).update({ date_grades_available: at, updated_on: now });
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'exam-run-release',
      before: { id: run.id, date_grades_available: base.before, updated_on: new Date(run.updated_on).toISOString() },
      after: { id: run.id, date_grades_available: at.toISOString(), updated_on: now.toISOString() },
      detail: { examRunId: run.id, courseId: run.course_id, grades: base.grades },
    });
    // spec 2.8: the ExamRun-save signal, in the same transaction (a failure leaves the run as it was).
    const combined = await updateOrCreateCombinedFinalGrades(
      { ...ctx, db: trx },
      {
        sql: `SELECT c.user_id, c.course_id FROM grades_combinedfinalgrade c WHERE c.course_id = ?
          AND EXISTS (SELECT 1 FROM grades_proctoredexamgrade g WHERE g.user_id = c.user_id AND g.exam_run_id = ?)`,
        bindings: [run.course_id, run.id],
      },
      now,
    );
    return {
      ...base,
      outcome: at.getTime() <= now.getTime() ? ('released' as const) : ('scheduled' as const),
      after: at.toISOString(),
      combinedFinalGrades: {
        created: combined.created,
        updated: combined.updated,
        unchanged: combined.unchanged,
        skipped: combined.skipped,
      },
    };
  });
}
