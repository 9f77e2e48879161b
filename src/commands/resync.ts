import type { Command } from 'commander';
import { resyncFinalGrade } from '../domain/final-grades/resync.js';
import { contextOf } from './domain-context.js';
import { runCommand } from './run-command.js';
import { renderTable } from './table.js';
import { sideEffectLines, sideEffectSummary } from './side-effects-view.js';

export function registerResync(program: Command): void {
  program
    .command('resync')
    .description("refresh one learner's edX data and show how their FinalGrade differs (after account relinking); --apply writes it")
    .argument('<username>', 'MicroMasters username')
    .argument('<course-key>', 'edX course key')
    .option('--apply', 'write the new values (grade, passed, paid on edX, status) with an audit row')
    .option('--json', 'print JSON for scripts')
    .action((username: string, courseKey: string, options: { apply?: boolean; json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const r = await resyncFinalGrade(contextOf(services), username, courseKey, { apply: options.apply });
        const view = (fg: typeof r.before) =>
          fg ? { grade: fg.grade, passed: fg.passed, courseRunPaidOnEdx: fg.paidOnEdx, status: fg.status } : null;
        if (out.json) {
          return out.result({
            username,
            courseKey,
            applied: r.applied,
            changes: r.changes,
            before: view(r.before),
            after: view(r.after),
            rule: r.computed.rule,
            explanation: r.computed.explanation,
            sideEffects: r.sideEffects ? sideEffectSummary(r.sideEffects) : null,
            warnings: r.warnings,
          });
        }
        if (r.changes.length === 0) {
          out.line(`${username}'s FinalGrade in ${courseKey} already matches edX: nothing to change`);
          return;
        }
        out.line(
          renderTable(
            ['field', 'FinalGrade now', 'from edX'],
            r.changes.map((c) => [c.field, c.before as string, c.after as string]),
          ),
        );
        out.line(
          r.applied
            ? `applied: ${username}'s FinalGrade in ${courseKey} now matches edX (audited)`
            : `not written; run again with --apply to write it`,
        );
        if (r.sideEffects) for (const line of sideEffectLines(r.sideEffects)) out.line(line);
        for (const warning of r.warnings) out.note(`warning: ${warning}`);
      }),
    );
}
