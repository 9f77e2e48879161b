import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { assertCanFreeze } from '../course-runs/freeze-date.js';
import { findLearnerByUsername } from '../users.js';
import { fetchUserGradeData, writeGradeCacheMany, writeUserGradeCache, type FetchedGradeData } from '../edx/cache-refresh.js';
import type { RefreshInputs } from '../edx/cache-store.js';
import { OpsError, failureMessage, isOpsError } from '../errors.js';
import { clearFailure, recordFailure, type FailureReason } from '../freeze/failed-users.js';
import { afterFinalGradeWrite } from '../grade-effects/after-final-grade-write.js';
import type { FinalGradeSideEffects } from '../grade-effects/final-grade-side-effects.js';
import { finishDueOfRun } from '../grade-effects/finish-due.js';
import type { SideEffectPlan } from '../grade-effects/side-effect-plan.js';
import { immediateDueSink, type DueSink } from '../grade-effects/side-effects-due.js';
import { loadCachedGradeData, loadCachedGradeDataMany } from './cached-grade-data.js';
import { computeFinalGrade, type ComputedFinalGrade } from './compute-final-grade.js';
import {
  findFinalGrade,
  insertFinalGradesAudited,
  newFinalGradeForAudit,
  sameValues,
  type FinalGrade,
  type FinalGradeValues,
} from './final-grade-store.js';

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
  /** The learner's refresh inputs, read ahead by the freeze job (else read here). */
  refreshInputs?: RefreshInputs;
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
    return await fetchUserGradeData(ctx.db, ctx.edx, userId, run.backend, { now: nowOf(ctx), onlyRun, inputs: options.refreshInputs });
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

  const values = frozenValues(computed);
  const now = nowOf(ctx);
  // The unique (user, run) pair decides: the insert (with its audit row, in the same statement) is
  // skipped when a row exists (ours from before, or a concurrent freeze's), and only then is that
  // row read to compare against.
  const created =
    (
      await insertFinalGradesAudited(
        ctx.db,
        run.id,
        [
          {
            userId,
            username: options.username ?? null,
            values,
            after: newFinalGradeForAudit(userId, run.id, values, now),
            detail: auditDetail(computed, options),
          },
        ],
        now,
        freezeAuditCommon(ctx, run, options.freezeRunId ?? null),
      )
    ).get(userId) ?? null;
  return settleWrite(ctx, run, userId, computed, created, options);
}

/** What every FinalGrade a freeze writes says beside it: operator, run, and the outbox row's source. */
const freezeAuditCommon = (ctx: DomainContext, run: CourseRun, freezeRunId: number | null) => ({
  operator: ctx.operator,
  courseKey: run.courseKey,
  due: { source: freezeRunId ? ('freeze' as const) : ('freeze-user' as const), freezeRunId },
});

const frozenValues = (computed: ComputedFinalGrade): FinalGradeValues => ({
  grade: computed.grade,
  passed: computed.passed,
  paidOnEdx: computed.paidOnEdx,
  status: 'complete',
});

const auditDetail = (computed: ComputedFinalGrade, options: FreezeUserOptions) => ({
  rule: computed.rule,
  inputs: computed.inputs,
  freezeRunId: options.freezeRunId ?? null,
});

/**
 * After the insert: a created FinalGrade is frozen (its side effects follow, spec 2.8 via the
 * outbox); an existing one is either the same (already frozen) or a `conflict` failure.
 */
async function settleWrite(
  ctx: DomainContext,
  run: CourseRun,
  userId: number,
  computed: ComputedFinalGrade,
  created: (FinalGrade & { sideEffectsDueId: number }) | null,
  options: FreezeUserOptions,
): Promise<FreezeUserResult> {
  if (created) {
    const { sideEffectsDueId, ...finalGrade } = created;
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
  const values = frozenValues(computed);
  const existing = await findFinalGrade(ctx.db, userId, run.id);
  if (!existing)
    return failFreeze(ctx, run, userId, options, 'internal', 'the FinalGrade was neither created nor found; freeze this learner again');
  if (sameValues(existing, values)) {
    // Frozen before: a failure to clear the list is harmless (a frozen learner counts as frozen).
    if (options.mayHaveFailure !== false) await clearFailure(ctx.db, ctx.redis, run, userId).catch(() => {});
    return { outcome: 'already-frozen', finalGrade: existing, computed };
  }
  return failFreeze(
    ctx,
    run,
    userId,
    options,
    'conflict',
    `an existing ${existing.status} FinalGrade (grade ${existing.grade}, passed ${existing.passed}, paid ${existing.paidOnEdx}) differs from the computed one (grade ${computed.grade}, passed ${computed.passed}, paid ${computed.paidOnEdx}); resync it`,
    { existing, computed },
  );
}

/** One learner of a write batch: what edX said, and the options `freezeFetchedUser` would take. */
export interface FetchedLearner {
  fetched: FetchedGradeData;
  options: FreezeUserOptions;
}

/**
 * `freezeFetchedUser` for a batch of learners of one run, with the same results learner by
 * learner, in a few statements for the whole batch: the cache rows (two), the cached data read
 * back (one), and the FinalGrades with their audit and side-effects-due rows (one, all or
 * nothing). A learner's compute failure fails that learner alone; a batch statement that fails
 * sends every learner it left unsettled through `freezeFetchedUser`, one by one, so a bad
 * learner costs the batch its speed, never its outcome. Side effects run per learner after the
 * commit, as everywhere.
 */
export async function freezeFetchedBatch(
  ctx: DomainContext,
  run: CourseRun,
  batch: readonly FetchedLearner[],
): Promise<FreezeUserResult[]> {
  if (batch.length <= 1 || new Set(batch.map((b) => b.fetched.userId)).size !== batch.length)
    return Promise.all(batch.map((b) => freezeFetchedUser(ctx, run, b.fetched, b.options)));
  const now = nowOf(ctx);
  let cached: Map<number, Awaited<ReturnType<typeof loadCachedGradeData>>>;
  try {
    await writeGradeCacheMany(
      ctx.db,
      batch.map((b) => b.fetched),
      now,
    );
    cached = await loadCachedGradeDataMany(
      ctx.db,
      batch.map((b) => b.fetched.userId),
      run.id,
    );
  } catch {
    return Promise.all(batch.map((b) => freezeFetchedUser(ctx, run, b.fetched, b.options)));
  }

  const results: Array<Promise<FreezeUserResult> | null> = batch.map(() => null);
  const computedOf = new Map<number, ComputedFinalGrade>();
  batch.forEach((b, i) => {
    const { userId } = b.fetched;
    try {
      const data = cached.get(userId) ?? { enrollment: null, certificate: null, currentGrade: null };
      computedOf.set(userId, computeFinalGrade(run, data));
    } catch (error) {
      results[i] = failFreeze(ctx, run, userId, b.options, reasonOf(error), failureMessage(error));
    }
  });
  const toInsert = batch.filter((b) => computedOf.has(b.fetched.userId));
  let created: Map<number, FinalGrade & { sideEffectsDueId: number }>;
  try {
    const freezeRunId = toInsert[0]?.options.freezeRunId ?? null;
    created = await insertFinalGradesAudited(
      ctx.db,
      run.id,
      toInsert.map((b) => {
        const computed = computedOf.get(b.fetched.userId)!;
        const values = frozenValues(computed);
        return {
          userId: b.fetched.userId,
          username: b.options.username ?? null,
          values,
          after: newFinalGradeForAudit(b.fetched.userId, run.id, values, now),
          detail: auditDetail(computed, b.options),
        };
      }),
      now,
      freezeAuditCommon(ctx, run, freezeRunId),
    );
  } catch {
    // Nothing of the batch's FinalGrades committed (one statement): each learner goes the one-by-one way.
    batch.forEach((b, i) => {
      results[i] ??= freezeFetchedUser(ctx, run, b.fetched, b.options);
    });
    return Promise.all(results as Array<Promise<FreezeUserResult>>);
  }
  batch.forEach((b, i) => {
    const userId = b.fetched.userId;
    results[i] ??= settleWrite(ctx, run, userId, computedOf.get(userId)!, created.get(userId) ?? null, b.options);
  });
  return Promise.all(results as Array<Promise<FreezeUserResult>>);
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
