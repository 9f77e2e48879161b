import type { DomainContext } from '../domain/context.js';
import { findCourseRunByKey } from '../domain/course-runs/course-run-store.js';
import {
  refreshUserEnrollments,
  refreshUserGradeCache,
  type EnrollmentRefreshSummary,
  type GradeCacheRefreshSummary,
} from '../domain/edx/cache-refresh.js';
import { freezeOneUser } from '../domain/final-grades/freeze-user.js';
import { findLearnerByUsername } from '../domain/users.js';

// The learner actions of the diagnosis screen, each one domain call (or two) and its outcome.

export interface EdxRefreshOutcome {
  enrollments: EnrollmentRefreshSummary;
  grades: GradeCacheRefreshSummary;
}

/** Refresh the learner's enrollments, then certificates and current grades, from the run's backend (spec 2.3). */
export async function refreshEdxData(ctx: DomainContext, username: string, courseKey: string): Promise<EdxRefreshOutcome> {
  const learner = await findLearnerByUsername(ctx.db, username);
  const run = await findCourseRunByKey(ctx.db, courseKey);
  const enrollments = await refreshUserEnrollments(ctx.db, ctx.edx, learner.id, run.backend);
  const grades = await refreshUserGradeCache(ctx.db, ctx.edx, learner.id, run.backend);
  return { enrollments, grades };
}

export type FreezeLearnerOutcome = Awaited<ReturnType<typeof freezeOneUser>>;

export function freezeLearner(ctx: DomainContext, username: string, courseKey: string): Promise<FreezeLearnerOutcome> {
  return freezeOneUser(ctx, username, courseKey);
}
