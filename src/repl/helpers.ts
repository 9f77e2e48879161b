import { findCombinedFinalGrade, projectCombinedFinalGrade } from '../domain/combined-grades/combined-final-grade.js';
import type { DomainContext } from '../domain/context.js';
import { findCourseRunByKey, type CourseRun } from '../domain/course-runs/course-run-store.js';
import { diagnoseLearner } from '../domain/diagnosis/diagnose.js';
import { refreshLearnerEdxData } from '../domain/edx/learner-refresh.js';
import { OpsError } from '../domain/errors.js';
import { loadCachedGradeData } from '../domain/final-grades/cached-grade-data.js';
import { computeFinalGrade } from '../domain/final-grades/compute-final-grade.js';
import { findFinalGrade } from '../domain/final-grades/final-grade-store.js';
import { freezeOneUser } from '../domain/final-grades/freeze-user.js';
import { resyncFinalGrade } from '../domain/final-grades/resync.js';
import { freezeCounts, getFreezeStatus } from '../domain/freeze/freeze-status.js';
import { findLearner, type Learner } from '../domain/users.js';
import type { ConsoleContext, CourseRef, RunRef, UserRef } from './context.js';

/** Refuses a helper that writes when the session may not (read-only on a real database). */
export type WriteGuard = (helper: string) => void;

export const allowWrites: WriteGuard = () => {};

export function refuseWrites(where: string): WriteGuard {
  return (helper) => {
    throw new OpsError(
      'read-only',
      `${helper}() writes to the database, and this console on ${where} is read-only`,
      'restart with `gradeops repl --write --reason "…"` to change data, or `--sandbox` to try it in a transaction rolled back on exit',
    );
  };
}

const isLearner = (value: unknown): value is Learner =>
  typeof value === 'object' && value !== null && typeof (value as Learner).id === 'number' && 'username' in value;

const isCourseRun = (value: unknown): value is CourseRun =>
  typeof value === 'object' && value !== null && typeof (value as CourseRun).courseKey === 'string' && 'backend' in value;

function badArgument(helper: string, what: string, value: unknown): OpsError {
  return new OpsError('usage', `${helper}() needs ${what}, got ${typeof value}`, '`.doc ' + helper + '` describes its arguments');
}

/**
 * The helpers of the console, in the runbook's words, over the domain functions the CLI uses.
 * `prepareEdx` runs before a helper that calls edX (the embedded simulator starts on first use).
 */
export function createConsoleContext(
  ctx: DomainContext,
  guardWrite: WriteGuard,
  prepareEdx: () => Promise<void> = async () => {},
): ConsoleContext {
  const learnerOf = async (helper: string, ref: UserRef): Promise<Learner> => {
    if (isLearner(ref)) return ref;
    if (typeof ref === 'string' || typeof ref === 'number') return findLearner(ctx.db, ref);
    throw badArgument(helper, 'a username, email, user id or a learner from user()', ref);
  };
  const runOf = async (helper: string, ref: RunRef): Promise<CourseRun> => {
    if (isCourseRun(ref)) return ref;
    if (typeof ref === 'string') return findCourseRunByKey(ctx.db, ref);
    throw badArgument(helper, 'a course key or a course run from run()', ref);
  };

  return {
    db: ctx.db,

    user: (usernameOrEmailOrId) => learnerOf('user', usernameOrEmailOrId),

    run: (courseKey) => runOf('run', courseKey),

    async finalGrade(user, run) {
      const [learner, courseRun] = [await learnerOf('finalGrade', user), await runOf('finalGrade', run)];
      return findFinalGrade(ctx.db, learner.id, courseRun.id);
    },

    async computeFinalGrade(user, run) {
      const [learner, courseRun] = [await learnerOf('computeFinalGrade', user), await runOf('computeFinalGrade', run)];
      return computeFinalGrade(courseRun, await loadCachedGradeData(ctx.db, learner.id, courseRun.id));
    },

    async refreshEdxCache(user, run) {
      guardWrite('refreshEdxCache');
      const learner = await learnerOf('refreshEdxCache', user);
      const courseRun = run === undefined ? undefined : await runOf('refreshEdxCache', run);
      await prepareEdx();
      return refreshLearnerEdxData(ctx, learner.username, courseRun?.courseKey);
    },

    async freezeUser(user, run) {
      guardWrite('freezeUser');
      const [learner, courseRun] = [await learnerOf('freezeUser', user), await runOf('freezeUser', run)];
      await prepareEdx();
      return freezeOneUser(ctx, learner.username, courseRun.courseKey);
    },

    async resync(user, run, options = {}) {
      guardWrite('resync');
      const [learner, courseRun] = [await learnerOf('resync', user), await runOf('resync', run)];
      await prepareEdx();
      return resyncFinalGrade(ctx, learner.username, courseRun.courseKey, { apply: options.apply === true });
    },

    async freezeStatus(run) {
      return getFreezeStatus(ctx, (await runOf('freezeStatus', run)).courseKey);
    },

    async failedUsers(run) {
      return (await freezeCounts(ctx, await runOf('failedUsers', run))).failed;
    },

    async diagnose(user, run) {
      const [learner, courseRun] = [await learnerOf('diagnose', user), await runOf('diagnose', run)];
      return diagnoseLearner(ctx, learner.username, courseRun.courseKey);
    },

    async combinedGrade(user, course) {
      const learner = await learnerOf('combinedGrade', user);
      const courseId = await courseIdOf(course);
      const [stored, now] = [
        await findCombinedFinalGrade(ctx.db, learner.id, courseId),
        await projectCombinedFinalGrade(ctx, learner.id, courseId),
      ];
      return { username: learner.username, courseId, stored, now };
    },
  };

  async function courseIdOf(ref: CourseRef): Promise<number> {
    if (typeof ref === 'number') return ref;
    const courseRun = await runOf('combinedGrade', ref);
    if (courseRun.courseId === null) {
      throw new OpsError('usage', `course run ${courseRun.courseKey} belongs to no course`, 'pass the course id instead');
    }
    return courseRun.courseId;
  }
}
