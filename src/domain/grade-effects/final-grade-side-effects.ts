import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import type { AuditSubject } from '../audit/audit-log.js';
import type { CourseRun } from '../course-runs/course-run-store.js';
import {
  combinedFinalGradeFact,
  updateOrCreateCombinedFinalGrade,
  type CombinedFinalGradeOutcome,
} from '../combined-grades/combined-final-grade.js';
import { authorizeForSchedulableExamRuns, examAuthorizationFact, type ExamAuthorizationOutcome } from '../exams/exam-authorization.js';
import { currentlySchedulable } from '../exams/exam-runs.js';
import type { FinalGrade } from '../final-grades/final-grade-store.js';
import { failureMessage } from '../errors.js';
import { generateProgramLetter, programLetterFact, type ProgramLetterOutcome } from '../programs/program-letter.js';
import { readFacts, type SqlFragment } from '../sql-facts.js';
import { loadSideEffectPlan, type SideEffectPlan } from './side-effect-plan.js';

// spec 2.8: in MicroMasters, Django signals run these when a FinalGrade is saved. gradeops writes
// FinalGrades without Django, so it runs them itself, after the FinalGrade's transaction has
// committed (the reference's on_commit), each in its own transaction. Like the reference, which
// only logs, a failing side effect never undoes or fails the FinalGrade: it is reported here.
//
// - saved (create or update) → update_or_create_combined_final_grade(user, run.course) (2.11);
// - created → generate_program_letter(user, program) (2.14);
// - saved with course_run_paid_on_edx → exam profile and authorization for each currently
//   schedulable exam run of the course.

export type SideEffectName = 'combined-final-grade' | 'program-letter' | 'exam-authorization';

interface Failed {
  outcome: 'failed';
  message: string;
}

/** An effect that wrote before a crash, for the same due row (its audit row says so): not run twice. */
interface AlreadyDone {
  outcome: 'skipped';
  reason: 'already-done';
}

export interface FinalGradeSideEffects {
  combinedFinalGrade:
    CombinedFinalGradeOutcome | { outcome: 'skipped'; reason: 'course-without-exam' | 'run-without-course' } | AlreadyDone | Failed;
  programLetter: ProgramLetterOutcome | { outcome: 'skipped'; reason: 'not-a-create' | 'run-without-program' } | AlreadyDone | Failed;
  examAuthorization:
    | ExamAuthorizationOutcome
    | { outcome: 'skipped'; reason: 'not-paid-on-edx' | 'no-schedulable-exam-run' | 'run-without-course' }
    | AlreadyDone
    | Failed;
  /** The side effects that failed; the FinalGrade itself stays written. */
  errors: Array<{ effect: SideEffectName; message: string }>;
}

export interface FinalGradeSideEffectOptions {
  /** True when the FinalGrade was created, false when an existing one was updated. */
  created: boolean;
  /** The run's plan, when the caller (the freeze job) loaded it once for many learners. */
  plan?: SideEffectPlan;
  username?: string | null;
  /** The outbox row these effects serve (issue 12 §3): each write's audit row names it. */
  dueId?: number;
  /** Effects that already wrote for this due row before a crash: skipped, never run twice. */
  done?: ReadonlySet<SideEffectName>;
}

/**
 * Runs the side effects of saving `finalGrade` on `run`. Call it after the FinalGrade's
 * transaction has committed. Never throws: a failure is in the result's `errors`.
 * Reads what all applicable effects need in one statement; writes only what changes.
 */
export async function applyFinalGradeSideEffects(
  ctx: DomainContext,
  run: CourseRun,
  finalGrade: FinalGrade,
  options: FinalGradeSideEffectOptions,
): Promise<FinalGradeSideEffects> {
  const result: FinalGradeSideEffects = {
    combinedFinalGrade: { outcome: 'skipped', reason: 'course-without-exam' },
    programLetter: { outcome: 'skipped', reason: 'not-a-create' },
    examAuthorization: { outcome: 'skipped', reason: 'not-paid-on-edx' },
    errors: [],
  };
  const fail = (effect: SideEffectName, error: unknown): Failed => {
    const message = failureMessage(error);
    result.errors.push({ effect, message });
    return { outcome: 'failed', message };
  };

  let plan: SideEffectPlan;
  try {
    plan = options.plan?.courseRunId === run.id ? options.plan : await loadSideEffectPlan(ctx.db, run);
  } catch (error) {
    result.combinedFinalGrade = fail('combined-final-grade', error);
    if (options.created) result.programLetter = fail('program-letter', error);
    if (finalGrade.paidOnEdx) result.examAuthorization = fail('exam-authorization', error);
    return result;
  }

  const now = nowOf(ctx);
  const courseId = plan.courseId;
  const userId = finalGrade.userId;
  const schedulable = currentlySchedulable(plan.examRuns, now);
  // spec E19: a run without a course has no course to combine, no program, no exam.
  if (courseId === null) result.combinedFinalGrade = { outcome: 'skipped', reason: 'run-without-course' };
  if (options.created && !plan.program) result.programLetter = { outcome: 'skipped', reason: 'run-without-program' };
  if (finalGrade.paidOnEdx) {
    result.examAuthorization =
      courseId === null ? { outcome: 'skipped', reason: 'run-without-course' } : { outcome: 'skipped', reason: 'no-schedulable-exam-run' };
  }

  const done = options.done ?? new Set<SideEffectName>();
  const alreadyDone: AlreadyDone = { outcome: 'skipped', reason: 'already-done' };
  const fragments: Partial<Record<'combined' | 'letter' | 'exam', SqlFragment>> = {};
  if (courseId !== null && plan.examRuns.length > 0) {
    if (done.has('combined-final-grade')) result.combinedFinalGrade = alreadyDone;
    else fragments.combined = combinedFinalGradeFact(userId, courseId, now);
  }
  if (options.created && plan.program) {
    if (done.has('program-letter')) result.programLetter = alreadyDone;
    else fragments.letter = programLetterFact(plan.program, userId);
  }
  if (courseId !== null && finalGrade.paidOnEdx && schedulable.length > 0) {
    if (done.has('exam-authorization')) result.examAuthorization = alreadyDone;
    else fragments.exam = examAuthorizationFact(userId, courseId, schedulable);
  }

  let facts: Partial<Record<'combined' | 'letter' | 'exam', unknown>>;
  try {
    facts = await readFacts(ctx.db, fragments);
  } catch (error) {
    if (fragments.combined) result.combinedFinalGrade = fail('combined-final-grade', error);
    if (fragments.letter) result.programLetter = fail('program-letter', error);
    if (fragments.exam) result.examAuthorization = fail('exam-authorization', error);
    return result;
  }

  const subject: AuditSubject = {
    userId,
    username: options.username ?? null,
    courseKey: run.courseKey,
    courseRunId: run.id,
    sideEffectsDueId: options.dueId ?? null,
  };
  if (fragments.combined) {
    result.combinedFinalGrade = await updateOrCreateCombinedFinalGrade(ctx, subject, courseId!, facts.combined).catch((error: unknown) =>
      fail('combined-final-grade', error),
    );
  }
  if (fragments.letter) {
    result.programLetter = await generateProgramLetter(ctx, subject, plan.program!, facts.letter).catch((error: unknown) =>
      fail('program-letter', error),
    );
  }
  if (fragments.exam) {
    result.examAuthorization = await authorizeForSchedulableExamRuns(ctx, subject, finalGrade, courseId!, schedulable, facts.exam).catch(
      (error: unknown) => fail('exam-authorization', error),
    );
  }
  return result;
}
