import type { Command } from 'commander';
import { findCourseRunByKey } from '../domain/course-runs/course-run-store.js';
import { finishDueOfRun, type FinishedDue } from '../domain/grade-effects/finish-due.js';
import { listDue, runsWithDue, type SideEffectsDue } from '../domain/grade-effects/side-effects-due.js';
import { contextOf } from './domain-context.js';
import { runCommand } from './run-command.js';
import { sideEffectSummary } from './side-effects-view.js';
import { renderTable } from './table.js';

// Issue 12 §3: the FinalGrade side effects (spec 2.8) a crash left due, shown and finished. Each
// run's rows are finished under its freeze lock; a run whose freeze job is running is left to it.

function dueJson(d: SideEffectsDue) {
  return {
    courseKey: d.courseKey,
    userId: d.userId,
    username: d.username,
    finalGradeId: d.finalGradeId,
    source: d.source,
    created: d.created,
    dueSince: d.dueOn.toISOString(),
    attempts: d.attempts,
    lastError: d.lastError,
  };
}

export function registerSideEffects(program: Command): void {
  program
    .command('side-effects')
    .description('show and finish FinalGrade side effects left due by a crash (combined final grade, program letter, exam authorization)')
    .argument('[course-key]', 'only this course run')
    .option('--json', 'print JSON for scripts')
    .action((courseKey: string | undefined, options: { json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const ctx = contextOf(services);
        const runs = courseKey ? [{ courseKey, courseRunId: (await findCourseRunByKey(ctx.db, courseKey)).id }] : await runsWithDue(ctx.db);
        const found: SideEffectsDue[] = [];
        const results: FinishedDue[] = [];
        const skipped: Array<{ courseKey: string; reason: 'freeze-running'; message: string }> = [];
        for (const r of runs) {
          const due = await listDue(ctx.db, r.courseRunId);
          if (due.length === 0) continue;
          found.push(...due);
          const finished = await finishDueOfRun(ctx, await findCourseRunByKey(ctx.db, r.courseKey));
          if (finished === null) {
            skipped.push({
              courseKey: r.courseKey,
              reason: 'freeze-running',
              message: `a freeze of ${r.courseKey} is running and finishes its ${due.length} due row(s) itself`,
            });
          } else results.push(...finished);
        }
        const stillDue = results.filter((x) => x.outcome === 'still-due');
        if (out.json) {
          out.result({
            courseKey: courseKey ?? null,
            found: found.map(dueJson),
            finished: results
              .filter((x) => x.outcome !== 'still-due')
              .map((x) => ({
                ...dueJson(x.due),
                outcome: x.outcome,
                sideEffects: x.sideEffects ? sideEffectSummary(x.sideEffects) : null,
              })),
            stillDue: stillDue.map((x) => ({ ...dueJson(x.due), attempts: x.due.attempts + 1, lastError: x.error })),
            skipped,
          });
        } else {
          if (found.length === 0) {
            out.line(`no FinalGrade side effects are due${courseKey ? ` in ${courseKey}` : ''}`);
            return;
          }
          out.line(
            renderTable(
              ['course key', 'username', 'FinalGrade', 'from', 'due since (UTC)', 'now'],
              found.map((d) => {
                const r = results.find((x) => x.due.id === d.id);
                const now = r
                  ? r.outcome === 'finished'
                    ? 'finished'
                    : r.outcome === 'final-grade-gone'
                      ? 'FinalGrade deleted since: dropped'
                      : `still due: ${r.error}`
                  : 'left to the running freeze';
                return [d.courseKey, d.username ?? String(d.userId), d.finalGradeId, d.source, d.dueOn.toISOString().slice(0, 19), now];
              }),
            ),
          );
          for (const s of skipped) out.line(`note: ${s.message}`);
          out.line(
            `finished ${results.length - stillDue.length} of ${found.length}${stillDue.length > 0 ? `; ${stillDue.length} still due (fix the cause above, then run this again)` : ''}`,
          );
        }
        return stillDue.length > 0 ? 1 : 0;
      }),
    );
}
