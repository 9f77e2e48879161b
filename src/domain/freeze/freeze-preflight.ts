import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { getGradingStatus } from '../course-runs/grading-status.js';
import { probeEdx } from '../edx/edx-probe.js';
import { serviceName } from '../edx/providers.js';
import { failureMessage } from '../errors.js';
import { freezeCounts, type FreezeCounts } from './freeze-status.js';
import { readFreezeLock } from './freeze-lock.js';

// What an operator checks before starting a freeze (issue #7's wizard), each with its outcome and,
// when it fails, the fix. The job checks the same things itself; this only says so up front.

export interface PreflightCheck {
  id: 'freeze-date' | 'not-complete' | 'no-job-running' | 'redis' | 'edx';
  label: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface FreezePreflight {
  courseKey: string;
  title: string;
  backend: CourseRun['backend'];
  checks: PreflightCheck[];
  /** Every check passed: a freeze can start. */
  ready: boolean;
  counts: FreezeCounts;
}

const REDIS_PING_MS = 2_000;

async function pingRedis(ctx: DomainContext): Promise<PreflightCheck> {
  const label = 'Redis reachable';
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_PING_MS} ms`)), REDIS_PING_MS);
    });
    await Promise.race([ctx.redis.ping(), timeout]).finally(() => clearTimeout(timer));
    return { id: 'redis', label, ok: true, detail: 'answers PING' };
  } catch (error) {
    return {
      id: 'redis',
      label,
      ok: false,
      detail: `Redis does not answer: ${failureMessage(error)}`,
      fix: 'check that Redis runs and REDIS_URL names it',
    };
  }
}

export async function freezePreflight(ctx: DomainContext, courseKey: string): Promise<FreezePreflight> {
  const run = await findCourseRunByKey(ctx.db, courseKey);
  const now = nowOf(ctx);
  const [status, holder, redis, edx, counts] = await Promise.all([
    getGradingStatus(ctx.db, run.id),
    readFreezeLock(ctx.redis, courseKey).catch(() => null),
    pingRedis(ctx),
    probeEdx(ctx.edx, run.backend),
    freezeCounts(ctx, run),
  ]);
  const date = run.freezeGradeDate;
  const checks: PreflightCheck[] = [
    !date
      ? {
          id: 'freeze-date',
          label: 'Freeze date set and past',
          ok: false,
          detail: 'the course run has no freeze date',
          fix: 'set freeze_grade_date on the course run (Django admin → Course runs) to a past UTC instant',
        }
      : now.getTime() > date.getTime()
        ? { id: 'freeze-date', label: 'Freeze date set and past', ok: true, detail: `${utc(date)}, passed` }
        : {
            id: 'freeze-date',
            label: 'Freeze date set and past',
            ok: false,
            detail: `${utc(date)} is still ahead (now ${utc(now)})`,
            fix: 'wait until the freeze date has passed, or correct freeze_grade_date',
          },
    status === 'complete'
      ? {
          id: 'not-complete',
          label: 'Not complete',
          ok: false,
          detail: 'grading status is complete',
          fix: 'nothing to freeze; revert the run first to freeze it again',
        }
      : { id: 'not-complete', label: 'Not complete', ok: true, detail: `grading status ${status.replace('_', ' ')}` },
    holder
      ? {
          id: 'no-job-running',
          label: 'No freeze running',
          ok: false,
          detail: `${holder.operator} on ${holder.host} (PID ${holder.pid}) runs one since ${holder.startedOn}`,
          fix: 'watch it on the run screen, or wait for it to finish',
        }
      : { id: 'no-job-running', label: 'No freeze running', ok: true, detail: 'nobody holds its freeze lock' },
    redis,
    { id: 'edx', label: `${serviceName(run.backend)} reachable`, ...edx },
  ];
  return { courseKey, title: run.title, backend: run.backend, checks, ready: checks.every((c) => c.ok), counts };
}

function utc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
