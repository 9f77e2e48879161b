import type { DomainContext } from '../domain/context.js';
import { refreshLearnerEdxData, type LearnerRefreshResult } from '../domain/edx/learner-refresh.js';
import { freezeOneUser } from '../domain/final-grades/freeze-user.js';

// The learner actions of the diagnosis screen, each one domain call and its outcome.

export type EdxRefreshOutcome = LearnerRefreshResult;

/** spec 2.3's refresh of one learner for the run's backend (the same as `gradeops refresh`), row by row. */
export function refreshEdxData(ctx: DomainContext, username: string, courseKey: string): Promise<EdxRefreshOutcome> {
  return refreshLearnerEdxData(ctx, username, courseKey);
}

export type FreezeLearnerOutcome = Awaited<ReturnType<typeof freezeOneUser>>;

export function freezeLearner(ctx: DomainContext, username: string, courseKey: string): Promise<FreezeLearnerOutcome> {
  return freezeOneUser(ctx, username, courseKey);
}
