import type { DomainContext } from '../context.js';
import { findCourseRunByKey } from '../course-runs/course-run-store.js';
import { getGradingStatus } from '../course-runs/grading-status.js';
import type { GradingStatus } from '../course-runs/course-run-store.js';
import { failedUserIdsInRedis } from '../freeze/failed-users.js';
import { readFreezeLock, type FreezeLockOwner } from '../freeze/freeze-lock.js';
import { usernamesById } from '../users.js';
import { countDependents, type Dependents } from './revert.js';

// What a revert of a course run would do, read before anything is written (issue #7's guided
// revert): the FinalGrades and grading status it deletes, those it must keep, and the dependent
// rows it leaves alone. revertFreeze does the same reads again inside its transaction.

export interface RevertPreview {
  courseKey: string;
  title: string;
  finalGrades: { total: number; complete: number; pending: number };
  gradingStatus: GradingStatus | null;
  /** FinalGrades edited in the Django admin: MicroMasters' protection rules forbid deleting them, so a revert keeps them. */
  audited: Array<{ finalGradeId: number; username: string }>;
  /** Rows that depend on the FinalGrades to be deleted; a revert never deletes them. */
  dependents: Dependents;
  /** Learners on the failed-users list (spec 5b: the list is the truth), which a revert clears. */
  failedUsers: number;
  runningJob: Omit<FreezeLockOwner, 'token'> | null;
  /** Why a revert would be refused right now, else null. */
  refusal: string | null;
}

export const DEPENDENT_REASONS: Record<keyof Dependents, { label: string; why: string }> = {
  combinedFinalGrades: {
    label: 'combined final grades',
    why: 'MicroMasters recomputes them the next time a FinalGrade of the course is saved',
  },
  courseCertificates: { label: 'course certificates', why: 'already issued to learners; revoking one is a decision of its own' },
  programCertificates: { label: 'program certificates', why: 'already issued to learners; revoking one is a decision of its own' },
  programLetters: { label: 'program letters', why: 'already sent to learners' },
  examAuthorizations: { label: 'exam authorizations', why: 'learners may have scheduled an exam with them' },
};

export async function previewRevert(ctx: DomainContext, courseKey: string): Promise<RevertPreview> {
  const run = await findCourseRunByKey(ctx.db, courseKey);
  const [rows, status, statusRow, holder, listed] = await Promise.all([
    ctx.db('grades_finalgrade').where('course_run_id', run.id).select('id', 'user_id', 'status'),
    getGradingStatus(ctx.db, run.id),
    ctx.db('grades_courserungradingstatus').where('course_run_id', run.id).first('id'),
    readFreezeLock(ctx.redis, courseKey),
    failedUserIdsInRedis(ctx.redis, courseKey),
  ]);
  const grades = rows as Array<{ id: number; user_id: number; status: string }>;
  const auditedIds = new Set<number>(
    grades.length === 0
      ? []
      : await ctx
          .db('grades_finalgradeaudit')
          .whereIn(
            'final_grade_id',
            grades.map((g) => g.id),
          )
          .distinct()
          .pluck('final_grade_id'),
  );
  const audited = grades.filter((g) => auditedIds.has(g.id));
  const names = await usernamesById(
    ctx.db,
    audited.map((g) => g.user_id),
  );
  const deletedUsers = grades.filter((g) => !auditedIds.has(g.id)).map((g) => g.user_id);
  const dependents = await countDependents(ctx.db, run, deletedUsers);
  const runningJob = holder ? { operator: holder.operator, host: holder.host, pid: holder.pid, startedOn: holder.startedOn } : null;
  const refusal = runningJob
    ? `a freeze of ${courseKey} is running (${runningJob.operator} on ${runningJob.host}); wait for it to finish or stop it first`
    : grades.length === 0 && !statusRow
      ? `${courseKey} has no frozen grades and no grading status: nothing to revert`
      : null;
  return {
    courseKey,
    title: run.title,
    finalGrades: {
      total: grades.length,
      complete: grades.filter((g) => g.status === 'complete').length,
      pending: grades.filter((g) => g.status !== 'complete').length,
    },
    gradingStatus: statusRow ? status : null,
    audited: audited.map((g) => ({ finalGradeId: g.id, username: names.get(g.user_id) ?? String(g.user_id) })),
    dependents,
    failedUsers: listed.size,
    runningJob,
    refusal,
  };
}
