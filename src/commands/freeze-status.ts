import type { Command } from 'commander';
import { getFreezeStatus, type FreezeStatus } from '../domain/freeze/freeze-status.js';
import { durationText, paceText, RateSmoother, type SmoothedRate } from '../domain/freeze/rate-smoother.js';
import { contextOf } from './domain-context.js';
import { printDropped } from './learner-table.js';
import type { Output } from './output.js';
import { runCommand } from './run-command.js';
import { renderTable } from './table.js';

export function statusJson(s: FreezeStatus, pace?: SmoothedRate) {
  return {
    courseKey: s.courseKey,
    title: s.title,
    status: s.status,
    canFreeze: s.canFreeze,
    freezeDate: s.freezeDate,
    eligible: s.eligible,
    frozen: s.frozen,
    failedCount: s.failed.length,
    remaining: s.remaining,
    failed: s.failed.map((f) => ({
      username: f.username,
      userId: f.userId,
      reason: f.reason,
      message: f.message,
      failedOn: f.failedOn?.toISOString() ?? null,
    })),
    dropped: s.dropped.map((d) => ({ userId: d.userId, username: d.username, reason: d.reason, message: d.message })),
    finalGradeRows: s.finalGradeRows,
    running: s.running,
    // --watch adds the smoothed rate and ETA (null while estimating) beside the job's own figures.
    job: s.job && pace ? { ...s.job, smoothed: pace } : s.job,
    micromastersTaskGroup: s.micromastersTaskGroup,
  };
}

/** The job's pace: smoothed when watching (issue #7), else the job's own last figures. */
function jobPace(p: NonNullable<FreezeStatus['lastProgress']>, pace?: SmoothedRate): string {
  if (pace) return paceText(pace);
  if (p.ratePerSecond <= 0) return 'estimating…';
  return `${p.ratePerSecond}/s · ETA ${p.etaSeconds === null ? 'estimating…' : durationText(p.etaSeconds)}`;
}

function statusLine(s: FreezeStatus, pace?: SmoothedRate): string {
  const job = s.job?.progress ? ` · job ${s.job.progress.done}/${s.job.progress.queued} at ${jobPace(s.job.progress, pace)}` : '';
  return `${s.status.replace('_', ' ')} · eligible ${s.eligible} · frozen ${s.frozen} · failed ${s.failed.length} · remaining ${s.remaining}${s.dropped.length > 0 ? ` · dropped ${s.dropped.length}` : ''}${s.running ? ` · running (${s.job?.operator} on ${s.job?.host})${job}` : ''}`;
}

function printStatus(out: Output, s: FreezeStatus): void {
  out.line(`${s.courseKey} — ${s.title}`);
  out.line(
    `freeze date ${s.freezeDate ?? 'missing'} (${s.freezeDate === null ? 'set it before freezing' : s.canFreeze ? 'in the past: can freeze' : 'not reached yet'})`,
  );
  out.line(statusLine(s));
  if (s.micromastersTaskGroup) out.line('note: a MicroMasters freeze task group may be running for this run (:1:freeze_grade_ key is set)');
  if (s.failed.length > 0) {
    out.line('Failed:');
    out.line(
      renderTable(
        ['username', 'reason', 'message'],
        s.failed.slice(0, 50).map((f) => [f.username, f.reason, f.message]),
      ),
    );
  }
  printDropped(out, s.dropped, s.courseKey);
}

export function registerFreezeStatus(program: Command): void {
  program
    .command('freeze-status')
    .description('show where the freeze of a course run stands: status, eligible, frozen, failed (with reasons), remaining, running job')
    .argument('<course-key>', 'edX course key')
    .option('--watch', 'keep showing the status every second until the run is complete (Ctrl-C to leave)')
    .option('--json', 'print JSON for scripts (one document per line with --watch)')
    .action((courseKey: string, options: { watch?: boolean; json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const ctx = contextOf(services);
        const first = await getFreezeStatus(ctx, courseKey);
        if (!options.watch) {
          if (out.json) out.result(statusJson(first));
          else printStatus(out, first);
          return;
        }
        // Poll without overlap: the next read starts only after the previous one is printed.
        let stopped = false;
        const stop = () => {
          stopped = true;
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        let last = '';
        let current = first;
        // The same smoothing as the console's run screen: an EMA over a few seconds of the progress
        // the job publishes, so the rate does not jump with each burst of learners.
        const smoother = new RateSmoother();
        const paceOf = (s: FreezeStatus) => {
          const p = s.job?.progress;
          return p ? smoother.sample({ done: p.done, queued: p.queued, at: Date.parse(p.updatedOn) }, Date.now()) : undefined;
        };
        if (!out.json) printStatus(out, current);
        // Learners who drop out of eligibility while watching are named as they appear (issue 6 §2).
        const namedDropped = new Set(current.dropped.map((d) => d.userId));
        try {
          for (;;) {
            const pace = paceOf(current);
            const text = out.json ? JSON.stringify(statusJson(current, pace)) : statusLine(current, pace);
            if (text !== last) {
              if (out.json) process.stdout.write(`${text}\n`);
              else if (last) out.line(`${new Date().toISOString().slice(11, 19)} ${text}`);
              last = text;
            }
            for (const d of current.dropped) {
              if (out.json || namedDropped.has(d.userId)) continue;
              namedDropped.add(d.userId);
              out.line(`dropped ${d.username} (${d.reason}): ${d.message}`);
            }
            if (stopped || (current.status === 'complete' && !current.running)) break;
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            if (stopped) break;
            current = await getFreezeStatus(ctx, courseKey);
          }
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    );
}
