import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { OpsError } from '../errors.js';
import { assertConfirmed, assertNoFreezeRunning, type SnapshotData } from './revert.js';

// The way back from a revert: the snapshot's FinalGrades and grading status come back exactly
// (same ids, values and timestamps). Refused when grades were frozen again since the revert.

export interface RestoreResult {
  snapshotId: number;
  courseKey: string;
  restoredFinalGrades: number;
  restoredGradingStatus: string | null;
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

  return ctx.db.transaction(async (trx) => {
    const current = await trx('grades_finalgrade').where('course_run_id', snapshot.course_run_id).pluck('id');
    const newer = current.filter((id: number) => !kept.has(id));
    if (newer.length > 0) {
      throw new OpsError(
        'conflict',
        `course run ${snapshot.course_key} has ${newer.length} FinalGrade(s) frozen after snapshot ${snapshotId}`,
        'revert the run again first (that takes a snapshot of them too), then restore this snapshot',
      );
    }
    // Snapshot timestamps are ISO-8601 text (microseconds kept): PostgreSQL parses them as they are.
    const rows = data.finalGrades.filter((fg) => !kept.has(fg.id as number));
    for (let i = 0; i < rows.length; i += 1_000) await trx('grades_finalgrade').insert(rows.slice(i, i + 1_000));
    await trx('grades_courserungradingstatus').where('course_run_id', snapshot.course_run_id).del();
    if (data.gradingStatus) {
      const s = data.gradingStatus;
      await trx('grades_courserungradingstatus').insert(s);
    }
    await trx('gradeops_snapshot')
      .where('id', snapshotId)
      .update({ restored_on: nowOf(ctx), restored_by: ctx.operator });
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'restore-freeze',
      courseKey: snapshot.course_key,
      courseRunId: snapshot.course_run_id,
      after: { finalGrades: rows.length + kept.size, gradingStatus: data.gradingStatus?.status ?? null },
      detail: { snapshotId },
    });
    return {
      snapshotId,
      courseKey: snapshot.course_key,
      restoredFinalGrades: rows.length,
      restoredGradingStatus: (data.gradingStatus?.status as string) ?? null,
    };
  });
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
