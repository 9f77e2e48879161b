import type { Db } from '../db.js';
import type { CourseRun } from '../course-runs/course-run-store.js';
import { listExamRunsOfCourse, type ExamRunWindow } from '../exams/exam-runs.js';
import { loadProgramRequirements, type ProgramRequirements } from '../programs/program-requirements.js';

/**
 * The facts about a course run that every FinalGrade side effect on it shares: its course's exam
 * runs (a course with none has no combined grade and no exam to authorize) and its program's
 * requirements. The freeze job loads this once for thousands of learners; a one-learner freeze or
 * a resync loads it per call. Which exam runs are schedulable is decided per learner, against
 * the clock of that moment, from the windows kept here.
 */
export interface SideEffectPlan {
  courseRunId: number;
  courseId: number | null;
  /** Every exam run of the run's course (empty: the course has no exam, spec 1.3). */
  examRuns: ExamRunWindow[];
  program: ProgramRequirements | null;
}

export async function loadSideEffectPlan(db: Db, run: CourseRun): Promise<SideEffectPlan> {
  const examRuns = run.courseId === null ? [] : await listExamRunsOfCourse(db, run.courseId);
  const program = run.courseId === null || run.programId === null ? null : await loadProgramRequirements(db, run.programId);
  return { courseRunId: run.id, courseId: run.courseId, examRuns, program };
}
