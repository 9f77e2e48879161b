import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { OpsError, failureMessage } from '../errors.js';
import { failedUsersKey } from '../freeze/redis-keys.js';
import { assertConfirmed, assertNoFreezeRunning, type SnapshotData } from './revert.js';

// The way back from a revert: the snapshot's FinalGrades and grading status come back exactly
// (same ids, every column, timestamps to the microsecond), and so does the run's failed list —
// the Redis ids and gradeops' reasons as they were at the revert (issue 12 §6). Refused when
// grades were frozen again since the revert.

export interface RestoreResult {
  snapshotId: number;
  courseKey: string;
  restoredFinalGrades: number;
  restoredGradingStatus: string | null;
  /** Learners put back on the failed list. */
  restoredFailedUsers: number;
}

export async function findSnapshot(ctx: DomainContext, snapshotId: number) {
  const snapshot = Number.isInteger(snapshotId) ? await ctx.db('gradeops_snapshot').where('id', snapshotId).first() : null;
  if (!snapshot) {
    throw new OpsError(
      'unknown-snapshot',
      `there is no snapshot ${snapshotId}`,
      'revert-freeze prints the snapshot id; `gradeops snapshots` lists them',
    );
  }
  return snapshot as {
    id: number;
    course_key: string;
    course_run_id: number;
    data: unknown;
    restored_on: unknown;
    restored_by: string | null;
  };
}

export async function restoreFreeze(ctx: DomainContext, snapshotId: number, options: { confirm: string }): Promise<RestoreResult> {
  const snapshot = await findSnapshot(ctx, snapshotId);
  assertConfirmed(snapshot.course_key, options.confirm);
  if (snapshot.restored_on) {
    throw new OpsError(
      'snapshot-restored',
      `snapshot ${snapshotId} was already restored on ${new Date(snapshot.restored_on as string).toISOString()} by ${snapshot.restored_by}`,
      'nothing to do',
    );
  }
  await assertNoFreezeRunning(ctx, snapshot.course_key);
  const data = (typeof snapshot.data === 'string' ? JSON.parse(snapshot.data) : snapshot.data) as SnapshotData;
  const kept = new Set(data.keptFinalGradeIds);

  const result = await ctx.db.transaction(async (trx) => {
    const current = await trx('grades_finalgrade').where('course_run_id', snapshot.course_run_id).pluck('id');
    const newer = current.filter((id: number) => !kept.has(id));
    if (newer.length > 0) {
      throw new OpsError(
        'conflict',
        `course run ${snapshot.course_key} has ${newer.length} FinalGrade(s) frozen after snapshot ${snapshotId}`,
        'revert the run again first (that takes a snapshot of them too), then restore this snapshot',
      );
    }
    // The rows as the snapshot holds them, every column: PostgreSQL maps the JSON back itself.
    const rows = data.finalGrades.filter((fg) => !kept.has(fg.id as number));
    for (let i = 0; i < rows.length; i += 1_000) {
      await trx.raw(`INSERT INTO grades_finalgrade SELECT * FROM jsonb_populate_recordset(NULL::grades_finalgrade, ?::jsonb)`, [
        JSON.stringify(rows.slice(i, i + 1_000)),
      ]);
    }
    await trx('grades_courserungradingstatus').where('course_run_id', snapshot.course_run_id).del();
    if (data.gradingStatus) {
      await trx.raw(
        `INSERT INTO grades_courserungradingstatus SELECT * FROM jsonb_populate_record(NULL::grades_courserungradingstatus, ?::jsonb)`,
        [JSON.stringify(data.gradingStatus)],
      );
    }
    if (data.failedUsers) {
      await trx('gradeops_freeze_failure').where('course_run_id', snapshot.course_run_id).del();
      if (data.failedUsers.failures.length > 0) {
        await trx.raw(
          `INSERT INTO gradeops_freeze_failure SELECT * FROM jsonb_populate_recordset(NULL::gradeops_freeze_failure, ?::jsonb)`,
          [JSON.stringify(data.failedUsers.failures)],
        );
      }
    }
    await trx('gradeops_snapshot')
      .where('id', snapshotId)
      .update({ restored_on: nowOf(ctx), restored_by: ctx.operator });
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'restore-freeze',
      courseKey: snapshot.course_key,
      courseRunId: snapshot.course_run_id,
      after: {
        finalGrades: rows.length + kept.size,
        gradingStatus: data.gradingStatus?.status ?? null,
        failedUsers: data.failedUsers?.redisIds.length ?? null,
      },
      detail: { snapshotId },
    });
    return {
      snapshotId,
      courseKey: snapshot.course_key,
      restoredFinalGrades: rows.length,
      restoredGradingStatus: (data.gradingStatus?.status as string) ?? null,
      restoredFailedUsers: new Set(data.failedUsers?.redisIds ?? []).size,
    };
  });
  if (data.failedUsers) {
    const key = failedUsersKey(snapshot.course_key);
    try {
      const multi = ctx.redis.multi().del(key);
      if (data.failedUsers.redisIds.length > 0) multi.rpush(key, ...data.failedUsers.redisIds);
      await multi.exec();
    } catch (error) {
      throw new OpsError(
        'redis-unreachable',
        `restored snapshot ${snapshotId} in the database, but putting its failed list back into Redis failed: ${failureMessage(error)}`,
        `those ${result.restoredFailedUsers} learner(s) count as remaining; \`gradeops freeze ${snapshot.course_key}\` retries them`,
        { cause: error },
      );
    }
  }
  return result;
}

export async function listSnapshots(ctx: DomainContext, courseKey?: string) {
  const query = ctx
    .db('gradeops_snapshot')
    .select('id', 'created_on', 'operator', 'kind', 'course_key', 'restored_on', 'restored_by')
    .orderBy('id', 'desc');
  if (courseKey) query.where('course_key', courseKey);
  return (await query).map((r: Record<string, unknown>) => ({
    id: Number(r.id),
    createdOn: new Date(r.created_on as string).toISOString(),
    operator: r.operator as string,
    kind: r.kind as string,
    courseKey: r.course_key as string,
    restoredOn: r.restored_on ? new Date(r.restored_on as string).toISOString() : null,
    restoredBy: (r.restored_by as string) ?? null,
  }));
}
