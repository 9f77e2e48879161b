import type { Command } from 'commander';
import { FreezeEmitter } from '../domain/freeze/freeze-events.js';
import { runFreezeJob, type FreezeJobSummary } from '../domain/freeze/freeze-job.js';
import { OpsError } from '../domain/errors.js';
import { contextOf } from './domain-context.js';
import type { Output } from './output.js';
import { runCommand } from './run-command.js';
import { printDropped, printLearnerTable } from './learner-table.js';

interface FreezeOptions {
  concurrency?: string;
  rate?: string;
  retryFailed?: boolean;
  fullRefresh?: boolean;
  json?: boolean;
}

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new OpsError('usage', `${flag} must be a whole number of at least 1, got "${value}"`, `e.g. ${flag} 8`);
  return n;
}

export function printFreezeSummary(out: Output, s: FreezeJobSummary): void {
  const left = s.failed.length + s.dropped.length;
  const headline = {
    'already-complete': `${s.courseKey} is already complete: nothing was queued`,
    completed: `${s.courseKey} is complete`,
    'finished-with-failures': `${s.courseKey} stays pending: ${left} learner(s) failed (run freeze again to complete it with them left out, or --retry-failed to retry them)`,
    interrupted: `${s.courseKey} was interrupted: run the same command again to resume`,
  }[s.outcome];
  out.line(headline);
  out.line(
    `eligible ${s.eligible} · frozen ${s.frozen} (this run ${s.frozenThisRun}) · failed ${s.failed.length} · remaining ${s.remaining}${s.dropped.length > 0 ? ` · dropped ${s.dropped.length}` : ''} · ${(s.durationMs / 1000).toFixed(1)}s`,
  );
  printLearnerTable(out, 'Failed', s.failed, s.courseKey);
  printDropped(out, s.dropped, s.courseKey);
  if (s.sideEffects.finishedLeftover > 0)
    out.line(`finished the side effects of ${s.sideEffects.finishedLeftover} FinalGrade(s) that an earlier run left due`);
  if (s.sideEffects.due > 0)
    out.line(
      `${s.sideEffects.due} FinalGrade(s) still have side effects due (a side effect failed): \`gradeops side-effects ${s.courseKey}\` shows and retries them`,
    );
}

const MAX_WARNINGS_SHOWN = 10;

export function registerFreeze(program: Command): void {
  program
    .command('freeze')
    .description('freeze the final grades of a course run (foreground job; Ctrl-C stops cleanly and the next run resumes)')
    .argument('<course-key>', 'edX course key, e.g. course-v1:MITx+14.100x+3T2025')
    .option('--concurrency <n>', 'learners frozen at once', undefined)
    .option('--rate <n>', 'at most this many edX calls per second')
    .option('--retry-failed', 'retry the learners on the failed list instead of completing without them')
    .option(
      '--full-refresh',
      "refresh every cached enrollment of each learner on the run's backend, as MicroMasters does (default: this run only)",
    )
    .option('--json', 'print a JSON summary for scripts')
    .action((courseKey: string, options: FreezeOptions) =>
      runCommand(options, async (services, out) => {
        const concurrency = positive(options.concurrency, '--concurrency') ?? services.config.concurrency;
        const rate = positive(options.rate, '--rate');
        const ctx = contextOf(services, { edx: { ...services.edx, ratePerSecond: rate } });
        const events = new FreezeEmitter();
        const abort = new AbortController();
        let signals = 0;
        const onSignal = () => {
          signals += 1;
          if (signals > 1) {
            // A second Ctrl-C: leave now (the next run resumes anyway), but close the database
            // first, so the embedded one is not left half-written; a hung close still exits.
            setTimeout(() => process.exit(130), 5_000).unref();
            void services
              .close()
              .catch(() => {})
              .finally(() => process.exit(130));
            return;
          }
          abort.abort();
          view?.note('stopping: finishing the learners in flight… (Ctrl-C again to leave at once)');
          if (!view) out.note('stopping: finishing the learners in flight…');
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const view =
          !out.json && process.stderr.isTTY ? (await import('./freeze-progress-view.js')).showFreezeProgress(courseKey, events) : null;
        if (!out.json && !view) {
          events.on('freeze:started', (e) =>
            out.note(
              `freezing ${e.courseKey}: ${e.queued} learner(s) queued, ${e.skippedFailed} failed left out, concurrency ${e.concurrency}`,
            ),
          );
          events.on('freeze:user-failed', (e) => out.note(`failed ${e.username}: ${e.reason}`));
          events.on('freeze:progress', (p) =>
            out.note(
              `progress ${p.done}/${p.queued} frozen ${p.frozen} failed ${p.failed} ${p.ratePerSecond}/s eta ${p.etaSeconds ?? '-'}s`,
            ),
          );
        }
        // A failing side effect warns once per learner; past a screenful they are only counted.
        let warnings = 0;
        events.on('freeze:warning', (w) => {
          warnings += 1;
          if (warnings > MAX_WARNINGS_SHOWN) return;
          if (view) view.note(`warning: ${w.message}`);
          else out.note(`warning: ${w.message}`);
        });
        try {
          const summary = await runFreezeJob(ctx, courseKey, {
            concurrency,
            retryFailed: options.retryFailed,
            fullRefresh: options.fullRefresh,
            signal: abort.signal,
            events,
            publishEveryMs: view ? 100 : 2_000,
          });
          view?.stop();
          if (warnings > MAX_WARNINGS_SHOWN)
            out.note(
              `warning: ${warnings - MAX_WARNINGS_SHOWN} more warning(s) not shown (the learners are frozen; the warnings above show the side effects' errors)`,
            );
          if (out.json) {
            out.result({
              courseKey: summary.courseKey,
              status: summary.status,
              outcome: summary.outcome,
              eligible: summary.eligible,
              frozen: summary.frozen,
              frozenThisRun: summary.frozenThisRun,
              remaining: summary.remaining,
              failed: summary.failed.map((f) => ({ username: f.username, reason: f.reason, message: f.message })),
              dropped: summary.dropped.map((d) => ({ userId: d.userId, username: d.username, reason: d.reason, message: d.message })),
              sideEffects: summary.sideEffects,
              durationMs: summary.durationMs,
              freezeRunId: summary.freezeRunId,
            });
          } else {
            printFreezeSummary(out, summary);
          }
          return summary.outcome === 'interrupted' ? 130 : 0;
        } finally {
          view?.stop();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
}
