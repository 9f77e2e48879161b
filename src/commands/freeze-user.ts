import type { Command } from 'commander';
import { freezeOneUser } from '../domain/final-grades/freeze-user.js';
import { contextOf } from './domain-context.js';
import { runCommand } from './run-command.js';
import { sideEffectLines, sideEffectSummary } from './side-effects-view.js';

export function registerFreezeUser(program: Command): void {
  program
    .command('freeze-user')
    .description("refresh one learner's edX data, compute the final grade and freeze it (every failure is shown)")
    .argument('<username>', 'MicroMasters username')
    .argument('<course-key>', 'edX course key')
    .option('--json', 'print JSON for scripts')
    .action((username: string, courseKey: string, options: { json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const result = await freezeOneUser(contextOf(services), username, courseKey);
        const fg = result.finalGrade;
        if (out.json) {
          return out.result({
            username,
            courseKey,
            outcome: result.outcome,
            finalGrade: { grade: fg.grade, passed: fg.passed, courseRunPaidOnEdx: fg.paidOnEdx, status: fg.status },
            rule: result.computed.rule,
            explanation: result.computed.explanation,
            sideEffects: result.outcome === 'frozen' ? sideEffectSummary(result.sideEffects) : null,
            warnings: result.outcome === 'frozen' ? result.warnings : [],
          });
        }
        out.line(
          `${result.outcome === 'frozen' ? 'froze' : 'already frozen:'} ${username} in ${courseKey}: grade ${fg.grade}, passed ${fg.passed}, paid on edX ${fg.paidOnEdx}`,
        );
        for (const line of result.computed.explanation) out.line(`  ${line}`);
        if (result.outcome === 'frozen') {
          for (const line of sideEffectLines(result.sideEffects)) out.line(line);
          for (const warning of result.warnings) out.note(`warning: ${warning}`);
        }
      }),
    );
}
