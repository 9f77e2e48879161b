import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { findCourseRunByKey, type CourseRun, type GradingStatus } from '../course-runs/course-run-store.js';
import { getGradingStatus } from '../course-runs/grading-status.js';
import { failedUserIdsInRedis, reportedByMicromasters, type FreezeFailure } from './failed-users.js';
import { readFreezeLock, type FreezeLockOwner } from './freeze-lock.js';
import { readProgress, type FreezeProgress } from './freeze-progress.js';
import { micromastersGroupKey } from './redis-keys.js';
import { ruleCounts } from './freeze-counts-cache.js';
import { learnerStanding, listedLearners, type LearnerStanding } from './users-needing-freeze.js';

// spec 5b "counts that add up": eligible = cached enrollment ∩ cached current grade, frozen ones
// included; frozen = complete FinalGrades; failed = distinct eligible, not-yet-frozen learners on
// the failed list (the list is the truth, 5b); remaining = the rest. frozen + failed + remaining =
// eligible, always. Learners on the list who are no longer eligible (a 4xx on the grade call
// deleted their cached grade) are reported beside them as `dropped` (issue 6 §2), never hidden.

/** Why a learner on the failed list is no longer eligible. */
export type DroppedReason = 'no-current-grade' | 'no-enrollment' | 'unknown-user';

export interface DroppedLearner {
  userId: number;
  username: string;
  reason: DroppedReason;
  /** What happened and the next step, in one line. */
  message: string;
  /** gradeops' record of the last failed attempt, when it has one. */
  lastFailure: FreezeFailure | null;
}

export interface FreezeCounts {
  eligible: number;
  frozen: number;
  failed: Array<FreezeFailure & { username: string }>;
  remaining: number;
  /** On the failed list but no longer eligible: not part of the counts above. */
  dropped: DroppedLearner[];
  /** Every FinalGrade row of the run, whatever its status (the reference's numerator). */
  finalGradeRows: number;
}

export interface FreezeStatus extends FreezeCounts {
  courseKey: string;
  title: string;
  status: GradingStatus;
  freezeDate: string | null;
  canFreeze: boolean;
  running: boolean;
  job: (Omit<FreezeLockOwner, 'token'> & { progress: FreezeProgress | null }) | null;
  lastProgress: FreezeProgress | null;
  micromastersTaskGroup: boolean;
}

export async function freezeCounts(ctx: DomainContext, run: CourseRun): Promise<FreezeCounts> {
  // Two reads side by side, after the failed list: the run-wide counts with where each listed
  // learner stands against the rule (kept while nothing moved, freeze-counts-cache.ts), and who
  // the listed learners are with gradeops' reason. A status check on a run with 100k enrollments
  // must stay fast (bench/RESULTS.md (c)).
  const listed = [...(await failedUserIdsInRedis(ctx.redis, run.courseKey))];
  const [row, who] = await Promise.all([ruleCounts(ctx.db, run.id, listed), listedLearners(ctx.db, run.id, listed)]);
  const standings = listed.map((id) => learnerStanding(id, row.standings.get(id)!, who.get(id)));
  const failed: FreezeCounts['failed'] = [];
  const dropped: DroppedLearner[] = [];
  for (const standing of standings) {
    const failure: FreezeFailure = standing.lastFailure
      ? { userId: standing.userId, ...standing.lastFailure, reason: standing.lastFailure.reason as FreezeFailure['reason'] }
      : reportedByMicromasters(standing.userId);
    const username = standing.username ?? String(standing.userId);
    if (standing.needsFreeze) failed.push({ ...failure, username });
    else if (!standing.frozen) dropped.push(droppedLearner(run.courseKey, standing, username, failure));
    // A frozen learner still on the list (its removal failed, or MicroMasters pushed it) is frozen.
  }
  const byName = (a: { username: string }, b: { username: string }) => a.username.localeCompare(b.username);
  const { need, frozen } = row;
  return {
    eligible: need + frozen,
    frozen,
    failed: failed.sort(byName),
    remaining: need - failed.length,
    dropped: dropped.sort(byName),
    finalGradeRows: row.finalGradeRows,
  };
}

function droppedLearner(courseKey: string, standing: LearnerStanding, username: string, failure: FreezeFailure): DroppedLearner {
  const last = failure.reason === 'reported-by-micromasters' ? '' : `; last attempt: ${failure.reason}: ${failure.message}`;
  const completes = `otherwise the next \`gradeops freeze ${courseKey}\` completes the run without them`;
  const lastFailure = failure.reason === 'reported-by-micromasters' ? null : failure;
  if (standing.username === null) {
    return {
      userId: standing.userId,
      username,
      reason: 'unknown-user',
      message: `no MicroMasters user has id ${standing.userId}; nothing can be frozen for it — the next \`gradeops freeze ${courseKey}\` that completes the run clears it from the list`,
      lastFailure,
    };
  }
  if (!standing.cachedEnrollment) {
    return {
      userId: standing.userId,
      username,
      reason: 'no-enrollment',
      message: `no cached enrollment in this run, so no longer eligible${last} — next: \`gradeops diagnose ${username} ${courseKey}\`; ${completes}`,
      lastFailure,
    };
  }
  return {
    userId: standing.userId,
    username,
    reason: 'no-current-grade',
    message: `edX no longer reports a current grade for this run (the cached grade was deleted), so no longer eligible${last} — next: check the learner on edX and \`gradeops freeze-user ${username} ${courseKey}\` once it reports a grade; ${completes}`,
    lastFailure,
  };
}

export async function getFreezeStatus(ctx: DomainContext, courseKey: string): Promise<FreezeStatus> {
  const run = await findCourseRunByKey(ctx.db, courseKey);
  const [status, counts, owner, progress, groupKey] = await Promise.all([
    getGradingStatus(ctx.db, run.id),
    freezeCounts(ctx, run),
    readFreezeLock(ctx.redis, courseKey),
    readProgress(ctx.redis, courseKey),
    ctx.redis.exists(micromastersGroupKey(courseKey)),
  ]);
  return {
    courseKey,
    title: run.title,
    status,
    freezeDate: run.freezeGradeDate ? run.freezeGradeDate.toISOString() : null,
    // The status check never throws on a missing date (spec 2.7): it reports it.
    canFreeze: run.freezeGradeDate !== null && nowOf(ctx).getTime() > run.freezeGradeDate.getTime(),
    ...counts,
    running: owner !== null,
    job: owner ? { operator: owner.operator, host: owner.host, pid: owner.pid, startedOn: owner.startedOn, progress } : null,
    lastProgress: progress,
    micromastersTaskGroup: groupKey > 0,
  };
}
