import type { DomainContext } from '../context.js';
import { listCourseRuns, type CourseRunListing } from '../course-runs/course-run-store.js';
import { rawRows } from '../db.js';
import { isOpsError } from '../errors.js';
import { failedUserIdsInRedis } from '../freeze/failed-users.js';
import { loadCachedGradeData } from '../final-grades/cached-grade-data.js';
import { computeFinalGrade } from '../final-grades/compute-final-grade.js';
import { rowToFinalGrade, sameValues, type FinalGrade } from '../final-grades/final-grade-store.js';
import { findLearnerByUsername, type Learner } from '../users.js';

// A learner's course runs (issue #7): every run where gradeops or MicroMasters knows something of
// them — a cached enrollment or grade, a FinalGrade, a failed freeze — with what each says, so an
// operator picks the run to look at without knowing its course key in advance.

export interface LearnerCourseRun {
  run: CourseRunListing;
  enrollmentMode: string | null;
  /** What the cached edX current grade says (percent and passed, raw as edX sent them). */
  cachedGrade: { percent: unknown; passed: unknown } | null;
  finalGrade: FinalGrade | null;
  /** The grade the cached data gives now, or why it cannot be computed. */
  computed: { grade: number; passed: boolean; paidOnEdx: boolean } | { problem: string };
  /** True when a FinalGrade exists and differs from what the cached edX data gives (resync it). */
  differs: boolean;
  /** On the run's failed-users list (spec 5b: the list is the truth). */
  onFailedList: boolean;
  /** The reason of gradeops' last failed attempt while listed; reported-by-micromasters when it has none. */
  failureReason: string | null;
}

export interface LearnerRuns {
  learner: Learner;
  runs: LearnerCourseRun[];
}

export async function learnerCourseRuns(ctx: DomainContext, username: string): Promise<LearnerRuns> {
  const learner = await findLearnerByUsername(ctx.db, username);
  const ids = new Set<number>(
    rawRows<{ course_run_id: number }>(
      await ctx.db.raw(
        `SELECT course_run_id FROM dashboard_cachedenrollment WHERE user_id = :id
         UNION SELECT course_run_id FROM dashboard_cachedcurrentgrade WHERE user_id = :id
         UNION SELECT course_run_id FROM grades_finalgrade WHERE user_id = :id
         UNION SELECT course_run_id FROM gradeops_freeze_failure WHERE user_id = :id`,
        { id: learner.id },
      ),
    ).map((r) => Number(r.course_run_id)),
  );
  const all = await listCourseRuns(ctx.db);
  // The Redis lists can name the learner on runs nothing else ties them to (a MicroMasters task wrote it).
  const onLists = await Promise.all(all.map((r) => failedUserIdsInRedis(ctx.redis, r.courseKey)));
  const listed = new Set(all.filter((_, i) => onLists[i].has(learner.id)).map((r) => r.id));
  const runs = all.filter((r) => ids.has(r.id) || listed.has(r.id));
  const [finalGrades, failures] = await Promise.all([
    ctx.db('grades_finalgrade').where('user_id', learner.id),
    ctx.db('gradeops_freeze_failure').where('user_id', learner.id).select('course_run_id', 'reason'),
  ]);
  const out: LearnerCourseRun[] = [];
  for (const run of runs) {
    const cached = await loadCachedGradeData(ctx.db, learner.id, run.id);
    const fgRow = finalGrades.find((f: { course_run_id: number }) => f.course_run_id === run.id);
    const finalGrade = fgRow ? rowToFinalGrade(fgRow) : null;
    let computed: LearnerCourseRun['computed'];
    try {
      const c = computeFinalGrade(run, cached);
      computed = { grade: c.grade, passed: c.passed, paidOnEdx: c.paidOnEdx };
    } catch (error) {
      computed = { problem: isOpsError(error) ? error.message : String(error) };
    }
    const failure = failures.find((f: { course_run_id: number }) => f.course_run_id === run.id);
    out.push({
      run,
      enrollmentMode: typeof cached.enrollment?.mode === 'string' ? cached.enrollment.mode : null,
      cachedGrade: cached.currentGrade ? { percent: cached.currentGrade.percent, passed: cached.currentGrade.passed } : null,
      finalGrade,
      computed,
      differs: Boolean(finalGrade && 'grade' in computed && !sameValues(finalGrade, { ...computed, status: 'complete' })),
      onFailedList: listed.has(run.id),
      failureReason: listed.has(run.id) ? (failure?.reason ?? 'reported-by-micromasters') : null,
    });
  }
  return { learner, runs: out };
}
