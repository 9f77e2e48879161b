import type { Db } from '../db.js';
import { OpsError } from '../errors.js';
import { toGradingStatus, type GradingStatus } from './course-run-store.js';

// spec 1.6 / 2.6: none → pending → complete, never back from complete (only a revert removes the row).

export async function getGradingStatus(db: Db, courseRunId: number): Promise<GradingStatus> {
  const row = await db('grades_courserungradingstatus').where('course_run_id', courseRunId).first('status');
  return toGradingStatus(row?.status);
}

export async function ensurePendingStatus(db: Db, courseRunId: number, now: Date): Promise<void> {
  const status = await getGradingStatus(db, courseRunId);
  if (status === 'complete') {
    throw new OpsError('already-complete', 'the course run grading is already complete', 'nothing to freeze; revert first to freeze again');
  }
  if (status === 'not_started') {
    await db('grades_courserungradingstatus')
      .insert({ course_run_id: courseRunId, status: 'pending', created_on: now, updated_on: now })
      .onConflict('course_run_id')
      .ignore();
  }
}

export async function setStatusComplete(db: Db, courseRunId: number, now: Date): Promise<void> {
  await db('grades_courserungradingstatus')
    .insert({ course_run_id: courseRunId, status: 'complete', created_on: now, updated_on: now })
    .onConflict('course_run_id')
    .merge({ status: 'complete', updated_on: now });
}
