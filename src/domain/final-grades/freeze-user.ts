import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { assertCanFreeze } from '../course-runs/freeze-date.js';
import { findLearnerByUsername } from '../users.js';
import { fetchUserGradeData, writeUserGradeCache, type FetchedGradeData } from '../edx/cache-refresh.js';
import { OpsError, failureMessage, isOpsError } from '../errors.js';
import { clearFailure, recordFailure, type FailureReason } from '../freeze/failed-users.js';
import { afterFinalGradeWrite } from '../grade-effects/after-final-grade-write.js';
import type { FinalGradeSideEffects } from '../grade-effects/final-grade-side-effects.js';
import { finishDueOfRun } from '../grade-effects/finish-due.js';
import type { SideEffectPlan } from '../grade-effects/side-effect-plan.js';
import { immediateDueSink, type DueSink } from '../grade-effects/side-effects-due.js';
import { loadCachedGradeData } from './cached-grade-data.js';
import { computeFinalGrade, type ComputedFinalGrade } from './compute-final-grade.js';
import { findFinalGrade, insertFinalGradeAudited, newFinalGradeForAudit, sameValues, type FinalGrade } from './final-grade-store.js';

// spec 2.5, corrected by 5b: refresh, compute, create the complete FinalGrade. A differing
// existing FinalGrade is a `conflict` failure (never overwritten: resync is the tool for it),
// and every failure lands on the failed list with its reason, so a run can always complete.

export type FreezeUserResult =
  | {
      outcome: 'frozen';
      finalGrade: FinalGrade;
      computed: ComputedFinalGrade;
      sideEffects: FinalGradeSideEffects;
      /** What failed after the commit besides the side effects (the learner is frozen all the same). */
      warnings: string[];
    }
  | { outcome: 'already-frozen'; finalGrade: FinalGrade; computed: ComputedFinalGrade }
  | { outcome: 'failed'; reason: FailureReason; message: string; existing?: FinalGrade; computed?: ComputedFinalGrade };

const REASONS: ReadonlySet<string> = new Set([
  'no-social-auth',
  'invalid-credentials',
  'edx-error',
  'edx-timeout',
  'edx-unreachable',
  'missing-cached-data',
  'invalid-edx-data',
  'conflict',
]);

function reasonOf(error: unknown): FailureReason {
  return isOpsError(error) && REASONS.has(error.code) ? (error.code as FailureReason) : 'internal';
}

/** A refused connection, DNS failure or network error after retries: edX is down or misconfigured. */
export function isEdxOutage(error: unknown): error is OpsError {
  return isOpsError(error) && error.code === 'edx-unreachable';
}

export interface FreezeUserOptions {
  freezeRunId?: number | null;
  username?: string;
  /** False when the caller knows the learner has no failure recorded (saves two writes per learner). */
  mayHaveFailure?: boolean;
  /** The run's side-effect facts, loaded once by the freeze job (else per call). */
  sideEffectPlan?: SideEffectPlan;
  /** Where finished side-effects-due rows go (the job batches their deletes); default: deleted at once. */
  dueSink?: DueSink;
  /**
   * spec 5b: 'targeted' (the batch freeze) asks edX about this run only; 'full' (the default, and
   * `freeze --full-refresh`) refreshes every cached enrollment of the learner on the backend.
   */
  refresh?: 'targeted' | 'full';
}

type FailedFreeze = Extract<FreezeUserResult, { outcome: 'failed' }>;

async function failFreeze(
  ctx: DomainContext,
  run: CourseRun,
  userId: number,
  options: FreezeUserOptions,
  reason: FailureReason,
  message: string,
  extra: Partial<FailedFreeze> = {},
): Promise<FailedFreeze> {
  await recordFailure(ctx.db, ctx.redis, run, { userId, reason, message, freezeRunId: options.freezeRunId }, nowOf(ctx));
  return { outcome: 'failed', reason, message, ...extra };
}

/**
 * Freezes one learner on a run whose preconditions the caller has checked (the job checks them
 * once; `freezeOneUser` checks them per call): the edX stage, then the database stage.
 */
export async function freezeUserOnRun(
  ctx: DomainContext,
  run: CourseRun,
  userId: number,
  options: FreezeUserOptions = {},
): Promise<FreezeUserResult> {
  const fetched = await fetchForFreeze(ctx, run, userId, options);
  return 'outcome' in fetched ? fetched : freezeFetchedUser(ctx, run, fetched, options);
}

/**
 * Stage one: what edX says of the learner (a refreshed token is saved; nothing else is written).
 * A failure is recorded and returned; edX not answering at all throws (see isEdxOutage).
 * The freeze job runs this in its edX slots, so those never wait for the database stage.
 */
export async function fetchForFreeze(
  ctx: DomainContext,
  run: CourseRun,
  userId: number,
  options: FreezeUserOptions = {},
): Promise<FetchedGradeData | FailedFreeze> {
  try {
    const onlyRun = options.refresh === 'targeted' ? { id: run.id, courseKey: run.courseKey } : undefined;
    return await fetchUserGradeData(ctx.db, ctx.edx, userId, run.backend, { now: nowOf(ctx), onlyRun });
  } catch (error) {
    // edX not answering at all is about edX, not the learner: putting them on the failed list
    // would let the next run complete without them (spec 2.6 re-run), so it ends the job instead.
    if (isEdxOutage(error)) throw error;
    return failFreeze(ctx, run, userId, options, reasonOf(error), failureMessage(error));
  }
}

/** Stage two: write the cache, compute, create the complete FinalGrade, run its side effects. */
export async function freezeFetchedUser(
  ctx: DomainContext,
  run: CourseRun,
  fetched: FetchedGradeData,
  options: FreezeUserOptions = {},
): Promise<FreezeUserResult> {
  const { userId } = fetched;
  const fail = (reason: FailureReason, message: string, extra: Partial<FailedFreeze> = {}) =>
    failFreeze(ctx, run, userId, options, reason, message, extra);

  let computed: ComputedFinalGrade;
  try {
    await writeUserGradeCache(ctx.db, fetched, nowOf(ctx));
    computed = computeFinalGrade(run, await loadCachedGradeData(ctx.db, userId, run.id));
  } catch (error) {
    return fail(reasonOf(error), failureMessage(error));
  }

  const values = { grade: computed.grade, passed: computed.passed, paidOnEdx: computed.paidOnEdx, status: 'complete' as const };
  const now = nowOf(ctx);
  // The unique (user, run) pair decides: the insert (with its audit row, in the same statement) is
  // skipped when a row exists (ours from before, or a concurrent freeze's), and only then is that
  // row read to compare against.
  const created = await insertFinalGradeAudited(
    ctx.db,
    userId,
    run.id,
    values,
    now,
    {
      operator: ctx.operator,
      action: 'freeze-user',
      courseKey: run.courseKey,
      courseRunId: run.id,
      userId,
      username: options.username ?? null,
      before: null,
      after: newFinalGradeForAudit(userId, run.id, values, now),
      detail: { rule: computed.rule, inputs: computed.inputs, freezeRunId: options.freezeRunId ?? null },
    },
    {
      courseKey: run.courseKey,
      username: options.username ?? null,
      source: options.freezeRunId ? 'freeze' : 'freeze-user',
      operator: ctx.operator,
      freezeRunId: options.freezeRunId ?? null,
    },
  );
  const written = created ? { existing: null, created } : { existing: await findFinalGrade(ctx.db, userId, run.id), created: null };

  if (written.created) {
    const { sideEffectsDueId, ...finalGrade } = written.created;
    // Committed: from here on the learner is frozen, whatever fails (spec 2.8 effects via the outbox).
    const after = await afterFinalGradeWrite(ctx, run, finalGrade, {
      created: true,
      dueId: sideEffectsDueId,
      sink: options.dueSink ?? immediateDueSink(ctx.db),
      plan: options.sideEffectPlan,
      username: options.username,
      clearFailure: options.mayHaveFailure !== false,
    });
    return { outcome: 'frozen', finalGrade, computed, sideEffects: after.sideEffects, warnings: after.warnings };
  }
  const existing = written.existing!;
  if (sameValues(existing, values)) {
    // Frozen before: a failure to clear the list is harmless (a frozen learner counts as frozen).
    if (options.mayHaveFailure !== false) await clearFailure(ctx.db, ctx.redis, run, userId).catch(() => {});
    return { outcome: 'already-frozen', finalGrade: existing, computed };
  }
  return fail(
    'conflict',
    `an existing ${existing.status} FinalGrade (grade ${existing.grade}, passed ${existing.passed}, paid ${existing.paidOnEdx}) differs from the computed one (grade ${computed.grade}, passed ${computed.passed}, paid ${computed.paidOnEdx}); resync it`,
    { existing, computed },
  );
}

export function assertNotFailed(result: FreezeUserResult): asserts result is Exclude<FreezeUserResult, { outcome: 'failed' }> {
  if (result.outcome === 'failed') {
    const hint =
      result.reason === 'conflict'
        ? 'review the difference with `gradeops resync` and apply it if right'
        : result.reason === 'invalid-credentials' || result.reason === 'no-social-auth'
          ? 'the learner must sign in to edX / MITx Online again through MicroMasters'
          : result.reason === 'missing-cached-data'
            ? 'run `gradeops diagnose` to see which cached edX data is missing'
            : 'check `gradeops doctor`, then try again';
    throw new OpsError(
      result.reason === 'internal' ? 'internal' : result.reason,
      `freeze failed (${result.reason}): ${result.message}`,
      hint,
    );
  }
}

/** `gradeops freeze-user`: spec 2.5 with raise_on_exception on — every failure surfaces. */
export async function freezeOneUser(
  ctx: DomainContext,
  username: string,
  courseKey: string,
): Promise<Exclude<FreezeUserResult, { outcome: 'failed' }>> {
  const learner = await findLearnerByUsername(ctx.db, username);
  const run = await findCourseRunByKey(ctx.db, courseKey);
  assertCanFreeze(run, nowOf(ctx));
  // Issue 12 §3: side effects a crash left due on this run are finished first.
  await finishDueOfRun(ctx, run);
  const result = await freezeUserOnRun(ctx, run, learner.id, { username });
  assertNotFailed(result);
  return result;
}
