import os from 'node:os';
import PQueue from 'p-queue';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { toCount } from '../db.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { assertCanFreeze } from '../course-runs/freeze-date.js';
import { ensurePendingStatus, getGradingStatus, setStatusComplete } from '../course-runs/grading-status.js';
import {
  fetchForFreeze,
  freezeFetchedBatch,
  isEdxOutage,
  type FetchedLearner,
  type FreezeUserResult,
} from '../final-grades/freeze-user.js';
import { loadRefreshInputsMany, type RefreshInputs } from '../edx/cache-store.js';
import { findFinalGrade, type FinalGrade } from '../final-grades/final-grade-store.js';
import { OpsError, failureMessage } from '../errors.js';
import { finishDueSideEffects } from '../grade-effects/finish-due.js';
import { loadSideEffectPlan } from '../grade-effects/side-effect-plan.js';
import { batchedDueSink, listDue } from '../grade-effects/side-effects-due.js';
import { usernamesById } from '../users.js';
import { failedUserIdsInRedis, recordFailure, usersWithFailureRows, type FailureReason } from './failed-users.js';
import { FreezeEmitter, type FreezeEvents } from './freeze-events.js';
import { freezeCounts, type DroppedReason } from './freeze-status.js';
import { acquireFreezeLock } from './freeze-lock.js';
import { publishProgress, RateMeter, type FreezeProgress } from './freeze-progress.js';
import { failedUsersKey, micromastersGroupKey } from './redis-keys.js';
import { usersNeedingFreeze } from './users-needing-freeze.js';
import { WriteBatches } from './write-batches.js';

// spec 2.6 as a foreground job, corrected by 5b and issue #3: each learner is frozen once, in a
// p-queue; failures go to the failed list with a reason; with no failure the run completes at
// once; a re-run that finds only failed users left completes it and clears the list;
// --retry-failed retries them instead. An interruption leaves a state the next run resumes.

export interface FreezeJobOptions {
  concurrency?: number;
  retryFailed?: boolean;
  /** Aborting stops taking new learners; those in flight finish, nothing is half-written. */
  signal?: AbortSignal;
  events?: FreezeEmitter;
  /** How often progress is published to Redis for watchers. */
  publishEveryMs?: number;
  /**
   * spec 5b: by default each learner's refresh asks edX about this run only (one certificate call
   * on edX, one grade call); true keeps MicroMasters' refresh of every cached enrollment.
   */
  fullRefresh?: boolean;
}

export interface FreezeJobSummary {
  courseKey: string;
  status: 'pending' | 'complete';
  outcome: 'already-complete' | 'completed' | 'finished-with-failures' | 'interrupted';
  eligible: number;
  frozen: number;
  frozenThisRun: number;
  failed: Array<{ userId: number; username: string; reason: FailureReason | 'reported-by-micromasters'; message: string }>;
  remaining: number;
  /** On the failed list but no longer eligible (issue 6 §2); not part of the counts above. */
  dropped: Array<{ userId: number; username: string; reason: DroppedReason; message: string }>;
  durationMs: number;
  freezeRunId: number | null;
  /** Issue 12 §3: side effects an earlier, crashed run left due and this one finished first; those still due. */
  sideEffects: { finishedLeftover: number; due: number };
}

export async function runFreezeJob(ctx: DomainContext, courseKey: string, options: FreezeJobOptions = {}): Promise<FreezeJobSummary> {
  const started = Date.now();
  const events = guardedEvents(options.events ?? new FreezeEmitter());
  const run = await findCourseRunByKey(ctx.db, courseKey);
  assertCanFreeze(run, nowOf(ctx));
  if ((await getGradingStatus(ctx.db, run.id)) === 'complete') {
    return {
      ...(await countsOf(ctx, run)),
      courseKey,
      status: 'complete',
      outcome: 'already-complete',
      frozenThisRun: 0,
      durationMs: Date.now() - started,
      freezeRunId: null,
      sideEffects: { finishedLeftover: 0, due: (await listDue(ctx.db, run.id)).length },
    };
  }

  const lock = await acquireFreezeLock(ctx.redis, courseKey, ctx.operator, ctx.testFaults?.freezeLockTtlMs);
  try {
    if (await ctx.redis.exists(micromastersGroupKey(courseKey))) {
      events.emit('freeze:warning', {
        message: `a MicroMasters freeze task group may be running for ${courseKey} (${micromastersGroupKey(courseKey)} is set); gradeops leaves it alone`,
      });
    }
    // Issue 12 §3: what a crash left due on this run is finished before anyone new is frozen.
    const sideEffectPlan = await loadSideEffectPlan(ctx.db, run);
    const leftover = await finishDueSideEffects(ctx, run, { plan: sideEffectPlan });
    for (const l of leftover.filter((x) => x.outcome === 'still-due'))
      events.emit('freeze:warning', {
        message: `${l.due.username ?? l.due.userId} is frozen, but a side effect left due by an earlier run failed again: ${l.error}`,
      });
    const sideEffectsOf = async () => ({
      finishedLeftover: leftover.filter((x) => x.outcome !== 'still-due').length,
      due: (await listDue(ctx.db, run.id)).length,
    });
    const need = await usersNeedingFreeze(ctx.db, run.id);
    // spec 5b: the failed list decides who is failed; a failure row of a learner not on it is
    // history, so that learner is retried (issue 6 §1). Rows are read only to know whose to clear.
    const [failedIds, withFailureRows] = await Promise.all([
      failedUserIdsInRedis(ctx.redis, courseKey),
      usersWithFailureRows(ctx.db, run.id),
    ]);
    const queue = options.retryFailed ? need : need.filter((id) => !failedIds.has(id));

    if (queue.length === 0) {
      // spec 2.6 step 5: nothing left but failed users (or nobody at all) → complete, clear the list.
      // The counts are taken first, so this summary still names who the run completes without.
      const counts = await countsOf(ctx, run);
      await completeRun(ctx, run, { reason: need.length === 0 ? 'everyone-frozen' : 'only-failed-users-left', failedUsers: need.length });
      return {
        ...counts,
        courseKey,
        status: 'complete',
        outcome: 'completed',
        frozenThisRun: 0,
        durationMs: Date.now() - started,
        freezeRunId: null,
        sideEffects: await sideEffectsOf(),
      };
    }

    const concurrency = Math.max(1, options.concurrency ?? 8);
    const refresh = options.fullRefresh ? ('full' as const) : ('targeted' as const);
    const freezeRunId = await startRunRecord(ctx, run, { concurrency, queued: queue.length, refresh }, lock.owner.startedOn);
    const usernames = await usernamesById(ctx.db, queue);
    const progress: FreezeProgress = {
      queued: queue.length,
      frozen: 0,
      failed: 0,
      done: 0,
      ratePerSecond: 0,
      etaSeconds: null,
      startedOn: new Date(started).toISOString(),
      updatedOn: new Date().toISOString(),
      state: 'running',
    };
    // spec 5b: eligible includes the learners frozen already (every complete FinalGrade, as in freezeCounts).
    const alreadyFrozen = toCount(
      (await ctx.db('grades_finalgrade').where({ course_run_id: run.id, status: 'complete' }).count('* as n').first())?.n,
    );
    events.emit('freeze:started', {
      courseKey,
      queued: queue.length,
      eligible: need.length + alreadyFrozen,
      alreadyFrozen,
      skippedFailed: need.length - queue.length,
      concurrency,
    });

    const meter = new RateMeter();
    let lastPublish = 0;
    const publish = async (force = false) => {
      const at = Date.now();
      if (!force && at - lastPublish < (options.publishEveryMs ?? 250)) return;
      lastPublish = at;
      progress.ratePerSecond = Math.round(meter.perSecond(at) * 10) / 10;
      progress.etaSeconds = progress.ratePerSecond > 0 ? Math.ceil((progress.queued - progress.done) / progress.ratePerSecond) : null;
      progress.updatedOn = new Date(at).toISOString();
      events.emit('freeze:progress', { ...progress });
      await publishProgress(ctx.redis, courseKey, progress).catch(() => {
        /* watchers miss one beat at most */
      });
    };

    // Two stages, so the `concurrency` edX slots never wait for PostgreSQL: a slot fetches what edX
    // says of a learner, hands it to the writers (cache rows, FinalGrade, side effects) and takes
    // the next learner. The writers work in batches (write-batches.ts); their backlog is bounded,
    // so a slow database slows the slots down.
    const edxSlots = new PQueue({ concurrency });
    // Finished side-effects-due rows are deleted in batches: one statement per learner fewer.
    const dueSink = batchedDueSink(ctx.db);
    const stop = () => edxSlots.clear();
    // Set when edX stops answering at all: the job stops like an interruption, and the learners
    // it hit stay in "remaining", not on the failed list.
    let outage: OpsError | null = null;

    const asInternalFailure = async (userId: number, error: unknown): Promise<LearnerResult> => {
      // A bug or a database hiccup for one learner must not end the job, and the learner must
      // still show up as failed (spec E14: the loop goes on) — unless its FinalGrade committed
      // before the error: then it is frozen, and never also failed (issue 12 §3).
      const failure = { outcome: 'failed' as const, reason: 'internal' as FailureReason, message: failureMessage(error) };
      const recorded = await recordFailure(
        ctx.db,
        ctx.redis,
        run,
        { userId, reason: failure.reason, message: failure.message, freezeRunId },
        nowOf(ctx),
      ).catch(() => true);
      if (!recorded) {
        const finalGrade = await findFinalGrade(ctx.db, userId, run.id).catch(() => null);
        if (finalGrade) {
          events.emit('freeze:warning', {
            message: `${usernames.get(userId) ?? userId} is frozen, but a step after its FinalGrade failed: ${failure.message}`,
          });
          return { outcome: 'already-frozen', finalGrade };
        }
      }
      return failure;
    };
    const account = async (userId: number, username: string, result: LearnerResult) => {
      if (result.outcome === 'failed') {
        progress.failed++;
        events.emit('freeze:user-failed', { userId, username, reason: result.reason, message: result.message });
      } else {
        if (result.outcome === 'frozen') {
          for (const e of result.sideEffects.errors)
            events.emit('freeze:warning', {
              message: `${username} is frozen, but the ${e.effect} side effect failed: ${e.message} (it stays due: \`gradeops side-effects ${courseKey}\`)`,
            });
          for (const message of result.warnings) events.emit('freeze:warning', { message });
        }
        progress.frozen++;
        events.emit('freeze:user-frozen', {
          userId,
          username,
          grade: result.finalGrade.grade ?? 0,
          passed: result.finalGrade.passed,
          alreadyFrozen: result.outcome === 'already-frozen',
        });
      }
      progress.done++;
      meter.tick();
      await publish();
    };

    const writers = new WriteBatches<FetchedLearner>(
      async (batch) => {
        const results = await freezeFetchedBatch(ctx, run, batch).catch((error: unknown) =>
          Promise.all(batch.map((b) => asInternalFailure(b.fetched.userId, error))),
        );
        for (const [i, b] of batch.entries()) {
          const userId = b.fetched.userId;
          await account(userId, usernames.get(userId) ?? String(userId), results[i]).catch(onTaskError);
        }
      },
      64,
      Math.min(2, concurrency),
      concurrency,
    );
    // Each learner's social-auth row and cached enrollment keys are read a slice of the queue at
    // a time, one statement per slice instead of one per learner. A slice that cannot be read
    // leaves its learners to read their own.
    const queuePosition = new Map(queue.map((id, i) => [id, i]));
    const inputsAhead = new Map<number, Promise<Map<number, RefreshInputs> | null>>();
    const SLICE = 128;
    const inputsOf = async (userId: number): Promise<RefreshInputs | undefined> => {
      const at = queuePosition.get(userId) ?? 0;
      const slice = Math.floor(at / SLICE);
      let loading = inputsAhead.get(slice);
      if (!loading) {
        loading = loadRefreshInputsMany(ctx.db, queue.slice(slice * SLICE, (slice + 1) * SLICE), run.backend).catch(() => null);
        inputsAhead.set(slice, loading);
        inputsAhead.delete(slice - 2);
      }
      return (await loading)?.get(userId);
    };

    options.signal?.addEventListener('abort', stop, { once: true });
    // Issue 12 §5: a lost lock stops the job like Ctrl-C: no new learner, those in flight finish.
    lock.lost.addEventListener('abort', stop, { once: true });
    await publish(true);
    // A task that throws anyway (a bug) must not become an unhandled rejection that ends the
    // process mid-job with its run record open: it is reported and the job goes on.
    const onTaskError = (error: unknown) =>
      events.emit('freeze:warning', { message: `internal error in the freeze job (the job goes on): ${failureMessage(error)}` });
    for (const userId of queue) {
      if (options.signal?.aborted || outage || lock.lost.aborted) break;
      edxSlots
        .add(async () => {
          if (outage || lock.lost.aborted) return;
          const username = usernames.get(userId) ?? String(userId);
          const mayHaveFailure = failedIds.has(userId) || withFailureRows.has(userId);
          const refreshInputs = await inputsOf(userId);
          const learnerOptions = { freezeRunId, username, mayHaveFailure, sideEffectPlan, dueSink, refresh, refreshInputs };
          const fetched = await fetchForFreeze(ctx, run, userId, learnerOptions).catch(async (error: unknown) => {
            if (isEdxOutage(error)) {
              outage ??= error;
              stop();
              return null;
            }
            return asInternalFailure(userId, error);
          });
          if (!fetched) return;
          if ('outcome' in fetched) {
            await account(userId, username, fetched);
            return;
          }
          // Once fetched, a learner is written even when the job is being stopped: "those in flight finish".
          await writers.add({ fetched, options: learnerOptions });
        })
        .catch(onTaskError);
      // Keep the p-queue's backlog bounded so 100k learners do not become 100k closures at once.
      if (edxSlots.size > concurrency * 4) await edxSlots.onSizeLessThan(concurrency * 2);
    }
    await edxSlots.onIdle();
    await writers.onIdle();
    await dueSink.flush().catch(() => {
      /* the rows stay due; the next run finds their effects done (audit rows) and clears them */
    });
    options.signal?.removeEventListener('abort', stop);
    lock.lost.removeEventListener('abort', stop);

    const lostLock = lock.lost.aborted;
    const interrupted = Boolean(outage) || lostLock || (Boolean(options.signal?.aborted) && progress.done < progress.queued);
    progress.state = interrupted ? 'interrupted' : 'finished';
    await publish(true);
    let status: 'pending' | 'complete' = 'pending';
    // A learner who failed and dropped out of eligibility (issue 6 §2) keeps the run pending too, so
    // the summary names them; the next run completes it (spec 2.6 step 5).
    if (!interrupted && progress.failed === 0 && (await usersNeedingFreeze(ctx.db, run.id)).length === 0) {
      await completeRun(ctx, run, { reason: 'everyone-frozen', failedUsers: 0 });
      status = 'complete';
    }
    await finishRunRecord(ctx, freezeRunId, lostLock ? 'lost-lock' : interrupted ? 'interrupted' : 'finished', progress);
    events.emit('freeze:finished', { courseKey, outcome: interrupted ? 'interrupted' : 'finished', progress: { ...progress } });
    if (lostLock) {
      throw new OpsError(
        'lost-lock',
        `${(lock.lost.reason as Error).message}; the freeze stopped taking learners after freezing ${progress.frozen}, so as not to write beside the new holder`,
        `check \`gradeops freeze-status ${courseKey}\`, then run freeze again when no other job runs: it resumes with the learners left`,
      );
    }
    if (outage) {
      const failedOutage: OpsError = outage;
      throw new OpsError(
        'edx-unreachable',
        `${failedOutage.message}; the freeze of ${courseKey} stopped after freezing ${progress.frozen} learner(s), and no learner was put on the failed list for it`,
        `${failedOutage.hint}, then run freeze again: it resumes with the learners left`,
        { cause: failedOutage },
      );
    }
    const counts = await countsOf(ctx, run);
    return {
      ...counts,
      courseKey,
      status,
      frozenThisRun: progress.frozen,
      durationMs: Date.now() - started,
      freezeRunId,
      sideEffects: await sideEffectsOf(),
      outcome: interrupted ? 'interrupted' : status === 'complete' ? 'completed' : 'finished-with-failures',
    };
  } finally {
    await lock.release().catch(() => {
      /* the lock's expiry is the backstop */
    });
  }
}

/** What the job accounts for one learner: freeze-user's result, or frozen before a later step failed. */
type LearnerResult = FreezeUserResult | { outcome: 'already-frozen'; finalGrade: FinalGrade };

/**
 * The job's events, with listeners that cannot break it: a listener that throws (a progress view,
 * a log line) is reported once per event name as a warning and the job goes on.
 */
interface JobEvents {
  emit<K extends keyof FreezeEvents>(name: K, ...args: FreezeEvents[K]): void;
}

function guardedEvents(events: FreezeEmitter): JobEvents {
  const reported = new Set<keyof FreezeEvents>();
  const emit = (name: keyof FreezeEvents, args: unknown[]) =>
    (events.emit as (n: keyof FreezeEvents, ...a: unknown[]) => boolean)(name, ...args);
  return {
    emit(name, ...args) {
      try {
        emit(name, args);
      } catch (error) {
        if (reported.has(name)) return;
        reported.add(name);
        try {
          emit('freeze:warning', [
            { message: `a ${String(name)} listener failed (reported once; the freeze goes on): ${failureMessage(error)}` },
          ]);
        } catch {
          /* the warning listener itself failed: nothing left to tell */
        }
      }
    },
  };
}

async function completeRun(ctx: DomainContext, run: CourseRun, detail: Record<string, unknown>): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    await setStatusComplete(trx, run.id, nowOf(ctx));
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'freeze-completed',
      courseKey: run.courseKey,
      courseRunId: run.id,
      after: { status: 'complete' },
      detail,
    });
  });
  await ctx.redis.del(failedUsersKey(run.courseKey));
}

async function startRunRecord(
  ctx: DomainContext,
  run: CourseRun,
  { concurrency, queued, refresh }: { concurrency: number; queued: number; refresh: 'targeted' | 'full' },
  startedOn: string,
): Promise<number> {
  return ctx.db.transaction(async (trx) => {
    await ensurePendingStatus(trx, run.id, nowOf(ctx));
    // A run record left "running" by a process that died is closed as crashed: we hold the lock now.
    await trx('gradeops_freeze_run')
      .where({ course_run_id: run.id, outcome: 'running' })
      .update({ outcome: 'crashed', finished_on: nowOf(ctx) });
    const [row] = await trx('gradeops_freeze_run')
      .insert({
        course_run_id: run.id,
        course_key: run.courseKey,
        operator: ctx.operator,
        host: os.hostname(),
        pid: process.pid,
        started_on: startedOn,
        outcome: 'running',
        concurrency,
        queued,
      })
      .returning('id');
    const id = Number(row.id ?? row);
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'freeze-started',
      courseKey: run.courseKey,
      courseRunId: run.id,
      detail: { freezeRunId: id, queued, concurrency, refresh },
    });
    return id;
  });
}

async function finishRunRecord(
  ctx: DomainContext,
  id: number,
  outcome: 'finished' | 'interrupted' | 'lost-lock',
  progress: FreezeProgress,
): Promise<void> {
  await ctx
    .db('gradeops_freeze_run')
    .where('id', id)
    .update({ outcome, finished_on: nowOf(ctx), frozen: progress.frozen, failed: progress.failed });
}

async function countsOf(ctx: DomainContext, run: CourseRun) {
  const counts = await freezeCounts(ctx, run);
  return {
    eligible: counts.eligible,
    frozen: counts.frozen,
    remaining: counts.remaining,
    failed: counts.failed.map((f) => ({ userId: f.userId, username: f.username, reason: f.reason, message: f.message })),
    dropped: counts.dropped.map((d) => ({ userId: d.userId, username: d.username, reason: d.reason, message: d.message })),
  };
}
