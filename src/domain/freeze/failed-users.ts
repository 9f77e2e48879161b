import type { Redis } from 'ioredis';
import type { Db } from '../db.js';
import { failedUsersKey } from './redis-keys.js';

// Failures live in two places: the reference's Redis list (ids only, so a MicroMasters deployment
// sees them) and gradeops_freeze_failure (one row per user: the reason of the last attempt).

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

export async function recordFailure(
  db: Db,
  redis: Redis,
  run: { id: number; courseKey: string },
  failure: { userId: number; reason: FailureReason; message: string; freezeRunId?: number | null },
  now: Date,
): Promise<void> {
  await db('gradeops_freeze_failure')
    .insert({
      course_run_id: run.id,
      user_id: failure.userId,
      reason: failure.reason,
      message: failure.message,
      failed_on: now,
      freeze_run_id: failure.freezeRunId ?? null,
    })
    .onConflict(['course_run_id', 'user_id'])
    .merge(['reason', 'message', 'failed_on', 'freeze_run_id']);
  // One entry per user: the reference tolerates duplicates, but counts read better without them.
  await redis
    .multi()
    .lrem(failedUsersKey(run.courseKey), 0, String(failure.userId))
    .lpush(failedUsersKey(run.courseKey), String(failure.userId))
    .exec();
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

/** Every user whose last attempt failed, with the reason when gradeops knows it. */
export async function listFailures(db: Db, redis: Redis, run: { id: number; courseKey: string }): Promise<Map<number, FreezeFailure>> {
  const failures = new Map<number, FreezeFailure>();
  const rows = await db('gradeops_freeze_failure').where('course_run_id', run.id).select('user_id', 'reason', 'message', 'failed_on');
  for (const r of rows)
    failures.set(r.user_id, { userId: r.user_id, reason: r.reason, message: r.message, failedOn: new Date(r.failed_on) });
  for (const id of await failedUserIdsInRedis(redis, run.courseKey)) {
    if (!failures.has(id)) {
      failures.set(id, {
        userId: id,
        reason: 'reported-by-micromasters',
        message: 'on failed_users list (written by a MicroMasters freeze task)',
        failedOn: null,
      });
    }
  }
  return failures;
}
