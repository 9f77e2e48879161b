import type { Knex } from 'knex';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { affectedRows, rawRows, toCount } from '../db.js';
import { OpsError } from '../errors.js';
import { readFreezeLock } from '../freeze/freeze-lock.js';
import { failedUsersKey, gradeopsKeysOf } from '../freeze/redis-keys.js';
import { usernamesById } from '../users.js';

// spec 2.10 + 5b: snapshot first, then delete in one transaction. FinalGrades with
// grades_finalgradeaudit rows cannot be deleted on a MicroMasters database (protection rules +
// deferred FK), so revert refuses and names them unless asked to keep them. Dependent rows
// (combined grades, certificates, letters, exam authorizations) are listed, never deleted.

export interface RevertOptions {
  /** The course key typed again by the operator. */
  confirm: string;
  /** Revert the rest and leave FinalGrades edited in the Django admin in place. */
  keepAudited?: boolean;
}

export interface Dependents {
  combinedFinalGrades: number;
  courseCertificates: number;
  programCertificates: number;
  programLetters: number;
  examAuthorizations: number;
}

export interface RevertResult {
  courseKey: string;
  snapshotId: number;
  deletedFinalGrades: number;
  keptAuditedFinalGrades: Array<{ finalGradeId: number; username: string }>;
  deletedGradingStatus: boolean;
  dependents: Dependents;
}

export interface SnapshotData {
  /** Every column of every row, as PostgreSQL's to_jsonb gives it (timestamps exact to the microsecond). */
  finalGrades: Array<Record<string, unknown>>;
  gradingStatus: Record<string, unknown> | null;
  finalGradeAudits: Array<Record<string, unknown>>;
  keptFinalGradeIds: number[];
  /** The run's failed list as it was (issue 12 §6): Redis ids in list order and gradeops' reasons. */
  failedUsers?: { redisIds: string[]; failures: Array<Record<string, unknown>> };
}

export function assertConfirmed(courseKey: string, confirm: string | undefined): void {
  if (confirm !== courseKey) {
    throw new OpsError(
      'confirmation-mismatch',
      `the confirmation "${confirm ?? ''}" does not match the course key ${courseKey}`,
      'type the course key exactly as shown to confirm',
    );
  }
}

export async function assertNoFreezeRunning(ctx: DomainContext, courseKey: string): Promise<void> {
  const holder = await readFreezeLock(ctx.redis, courseKey);
  if (holder) {
    throw new OpsError(
      'freeze-running',
      `a freeze of ${courseKey} is running (${holder.operator} on ${holder.host}, since ${holder.startedOn})`,
      'wait for it to finish or stop it first',
    );
  }
}

const CHUNK = 5_000;

async function inChunks<T>(ids: number[], work: (chunk: number[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(...(await work(ids.slice(i, i + CHUNK))));
  return out;
}

export async function countDependents(db: Knex | Knex.Transaction, run: CourseRun, userIds: number[]): Promise<Dependents> {
  if (userIds.length === 0 || run.courseId === null) {
    return { combinedFinalGrades: 0, courseCertificates: 0, programCertificates: 0, programLetters: 0, examAuthorizations: 0 };
  }
  const count = async (table: string, column: string, value: number | null) => {
    if (value === null) return 0;
    const rows = await inChunks(userIds, (chunk) => db(table).where(column, value).whereIn('user_id', chunk).count('* as n'));
    return rows.reduce((sum, r) => sum + toCount((r as { n: unknown }).n), 0);
  };
  return {
    combinedFinalGrades: await count('grades_combinedfinalgrade', 'course_id', run.courseId),
    courseCertificates: await count('grades_micromasterscoursecertificate', 'course_id', run.courseId),
    programCertificates: await count('grades_micromastersprogramcertificate', 'program_id', run.programId),
    programLetters: await count('grades_micromastersprogramcommendation', 'program_id', run.programId),
    examAuthorizations: await count('exams_examauthorization', 'course_id', run.courseId),
  };
}

export async function revertFreeze(ctx: DomainContext, courseKey: string, options: RevertOptions): Promise<RevertResult> {
  assertConfirmed(courseKey, options.confirm);
  const run = await findCourseRunByKey(ctx.db, courseKey);
  await assertNoFreezeRunning(ctx, courseKey);

  // The failed list goes into the snapshot too, so a restore puts it back (issue 12 §6).
  const redisIds = await ctx.redis.lrange(failedUsersKey(courseKey), 0, -1);
  const result = await ctx.db.transaction(async (trx) => {
    // Every column, as to_jsonb renders it: a column MicroMasters adds later is kept too, and
    // timestamps stay exact (a JS Date would drop the microseconds Django writes).
    const finalGrades = rawRows<{ row: Record<string, unknown> }>(
      await trx.raw(`SELECT to_jsonb(f) AS row FROM grades_finalgrade f WHERE f.course_run_id = ? ORDER BY f.id FOR UPDATE`, [run.id]),
    ).map((r) => r.row as Record<string, unknown> & { id: number; user_id: number });
    const gradingStatus =
      rawRows<{ row: Record<string, unknown> }>(
        await trx.raw(`SELECT to_jsonb(s) AS row FROM grades_courserungradingstatus s WHERE s.course_run_id = ?`, [run.id]),
      )[0]?.row ?? null;
    if (finalGrades.length === 0 && !gradingStatus) {
      throw new OpsError('not-frozen', `course run ${courseKey} has no frozen grades and no grading status to revert`, 'nothing to do');
    }
    const ids = finalGrades.map((fg: { id: number }) => fg.id);
    const audits = await inChunks(ids, (chunk) => trx('grades_finalgradeaudit').whereIn('final_grade_id', chunk).orderBy('id'));
    const auditedIds = [...new Set(audits.map((a: { final_grade_id: number }) => a.final_grade_id))];
    const auditedUsers = finalGrades.filter((fg: { id: number }) => auditedIds.includes(fg.id));
    const names = await usernamesById(
      trx,
      auditedUsers.map((fg: { user_id: number }) => fg.user_id),
    );
    const kept = auditedUsers.map((fg: { id: number; user_id: number }) => ({
      finalGradeId: fg.id,
      username: names.get(fg.user_id) ?? String(fg.user_id),
    }));
    if (kept.length > 0 && !options.keepAudited) {
      const shown = kept
        .slice(0, 10)
        .map((k) => k.username)
        .join(', ');
      throw new OpsError(
        'revert-blocked',
        `${kept.length} FinalGrade(s) of ${courseKey} were edited in the Django admin and cannot be deleted on a MicroMasters database: ${shown}${kept.length > 10 ? ', …' : ''}`,
        'nothing was changed; revert again with --keep-audited to keep those and revert the rest',
      );
    }
    const failures = rawRows<{ row: Record<string, unknown> }>(
      await trx.raw(`SELECT to_jsonb(x) AS row FROM gradeops_freeze_failure x WHERE x.course_run_id = ? ORDER BY x.id`, [run.id]),
    ).map((r) => r.row);
    const data: SnapshotData = {
      finalGrades,
      gradingStatus,
      finalGradeAudits: audits,
      keptFinalGradeIds: auditedIds,
      failedUsers: { redisIds, failures },
    };
    const [snap] = await trx('gradeops_snapshot')
      .insert({
        operator: ctx.operator,
        kind: 'revert-freeze',
        course_run_id: run.id,
        course_key: courseKey,
        data: JSON.stringify(data),
        created_on: nowOf(ctx),
      })
      .returning('id');
    const snapshotId = Number(snap.id ?? snap);
    const toDelete = ids.filter((id: number) => !auditedIds.includes(id));
    let deleted = 0;
    for (let i = 0; i < toDelete.length; i += CHUNK) {
      deleted += affectedRows(
        await trx('grades_finalgrade')
          .whereIn('id', toDelete.slice(i, i + CHUNK))
          .del(),
      );
    }
    const deletedStatus = affectedRows(await trx('grades_courserungradingstatus').where('course_run_id', run.id).del()) > 0;
    await trx('gradeops_freeze_failure').where('course_run_id', run.id).del();
    const deletedUsers = finalGrades
      .filter((fg: { id: number }) => !auditedIds.includes(fg.id))
      .map((fg: { user_id: number }) => fg.user_id);
    const dependents = await countDependents(trx, run, deletedUsers);
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'revert-freeze',
      courseKey,
      courseRunId: run.id,
      before: { finalGrades: finalGrades.length, gradingStatus: gradingStatus?.status ?? null, failedUsers: redisIds.length },
      after: { finalGrades: finalGrades.length - deleted, gradingStatus: null },
      detail: { snapshotId, deletedFinalGrades: deleted, keptAudited: kept, dependents },
    });
    return {
      courseKey,
      snapshotId,
      deletedFinalGrades: deleted,
      keptAuditedFinalGrades: kept,
      deletedGradingStatus: deletedStatus,
      dependents,
    };
  });
  await ctx.redis.del(failedUsersKey(courseKey), ...gradeopsKeysOf(courseKey));
  return result;
}
