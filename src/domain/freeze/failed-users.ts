import type { Redis } from 'ioredis';
import { rawRows, type Db } from '../db.js';
import { failedUsersKey } from './redis-keys.js';

// Failures live in two places: the reference's Redis list (ids only, so a MicroMasters deployment
// sees them), which decides who is failed (spec 5b), and gradeops_freeze_failure (one row per
// user: the reason of the last attempt).

export type FailureReason =
  | 'no-social-auth'
  | 'invalid-credentials'
  | 'edx-error'
  | 'edx-timeout'
  | 'edx-unreachable'
  | 'missing-cached-data'
  | 'invalid-edx-data'
  | 'conflict'
  | 'internal';

export interface FreezeFailure {
  userId: number;
  reason: FailureReason | 'reported-by-micromasters';
  message: string;
  failedOn: Date | null;
}

/**
 * Records a failed attempt: the reason in gradeops_freeze_failure, the id on the reference's list.
 * A learner with a complete FinalGrade is frozen whatever failed after its commit (issue 12 §3):
 * nothing is recorded then, and it returns false.
 */
export async function recordFailure(
  db: Db,
  redis: Redis,
  run: { id: number; courseKey: string },
  failure: { userId: number; reason: FailureReason; message: string; freezeRunId?: number | null },
  now: Date,
): Promise<boolean> {
  const written = rawRows(
    await db.raw(
      `INSERT INTO gradeops_freeze_failure (course_run_id, user_id, reason, message, failed_on, freeze_run_id)
       SELECT :run, :user, :reason, :message, :now, :freezeRun
        WHERE NOT EXISTS (SELECT 1 FROM grades_finalgrade
                           WHERE user_id = :user AND course_run_id = :run AND status = 'complete')
       ON CONFLICT (course_run_id, user_id)
       DO UPDATE SET reason = excluded.reason, message = excluded.message, failed_on = excluded.failed_on,
                     freeze_run_id = excluded.freeze_run_id
       RETURNING id`,
      {
        run: run.id,
        user: failure.userId,
        reason: failure.reason,
        message: failure.message,
        now,
        freezeRun: failure.freezeRunId ?? null,
      },
    ),
  );
  if (written.length === 0) return false;
  // One entry per user: the reference tolerates duplicates, but counts read better without them.
  await redis
    .multi()
    .lrem(failedUsersKey(run.courseKey), 0, String(failure.userId))
    .lpush(failedUsersKey(run.courseKey), String(failure.userId))
    .exec();
  return true;
}

export async function clearFailure(db: Db, redis: Redis, run: { id: number; courseKey: string }, userId: number): Promise<void> {
  await db('gradeops_freeze_failure').where({ course_run_id: run.id, user_id: userId }).del();
  await redis.lrem(failedUsersKey(run.courseKey), 0, String(userId));
}

/** Ids on the reference's list (which may hold duplicates and non-gradeops entries). */
export async function failedUserIdsInRedis(redis: Redis, courseKey: string): Promise<Set<number>> {
  const ids = await redis.lrange(failedUsersKey(courseKey), 0, -1);
  return new Set(ids.map(Number).filter(Number.isInteger));
}

/**
 * spec 5b "the failed list is the truth": the learners on failed_users_{key}, each with the reason
 * of gradeops' last attempt when it has one. A gradeops_freeze_failure row whose learner is not on
 * the list (cleared by a MicroMasters completion, by hand, or by a revert) is history: that learner
 * is retried, and is neither counted nor shown as failed.
 */
export async function listFailures(db: Db, redis: Redis, run: { id: number; courseKey: string }): Promise<Map<number, FreezeFailure>> {
  const ids = [...(await failedUserIdsInRedis(redis, run.courseKey))];
  const failures = new Map<number, FreezeFailure>();
  if (ids.length === 0) return failures;
  const rows = await reasonsOf(db, run.id, ids);
  for (const id of ids) failures.set(id, rows.get(id) ?? reportedByMicromasters(id));
  return failures;
}

/** The learners of a run with a failure row, on the list or not (whose row a freeze must clear). */
export async function usersWithFailureRows(db: Db, courseRunId: number): Promise<Set<number>> {
  return new Set((await db('gradeops_freeze_failure').where('course_run_id', courseRunId).pluck('user_id')).map(Number));
}

/** One learner's standing: on the list or not, and gradeops' record of the last failed attempt. */
export async function findFailure(
  db: Db,
  redis: Redis,
  run: { id: number; courseKey: string },
  userId: number,
): Promise<{ onList: boolean; failure: FreezeFailure | null }> {
  const [onList, rows] = await Promise.all([
    failedUserIdsInRedis(redis, run.courseKey).then((ids) => ids.has(userId)),
    reasonsOf(db, run.id, [userId]),
  ]);
  return { onList, failure: rows.get(userId) ?? (onList ? reportedByMicromasters(userId) : null) };
}

/** What is known of an id on the list without a gradeops failure row: MicroMasters put it there. */
export function reportedByMicromasters(userId: number): FreezeFailure {
  return {
    userId,
    reason: 'reported-by-micromasters',
    message: 'on failed_users list (written by a MicroMasters freeze task)',
    failedOn: null,
  };
}

async function reasonsOf(db: Db, courseRunId: number, userIds: number[]): Promise<Map<number, FreezeFailure>> {
  const rows = await db('gradeops_freeze_failure')
    .where('course_run_id', courseRunId)
    .whereRaw('user_id = ANY(?::int[])', [userIds])
    .select('user_id', 'reason', 'message', 'failed_on');
  return new Map(
    rows.map((r: { user_id: number; reason: FreezeFailure['reason']; message: string; failed_on: unknown }) => [
      r.user_id,
      { userId: r.user_id, reason: r.reason, message: r.message, failedOn: new Date(r.failed_on as string) },
    ]),
  );
}
