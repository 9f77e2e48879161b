import type { Command } from 'commander';
import { completeFreeze } from '../domain/freeze/complete-freeze.js';
import { contextOf } from './domain-context.js';
import { runCommand } from './run-command.js';

export function registerCompleteFreeze(program: Command): void {
  program
    .command('complete-freeze')
    .description('mark a stuck course run as frozen (complete) by force; clears its failed-users list')
    .argument('<course-key>', 'edX course key')
    .option('--json', 'print JSON for scripts')
    .action((courseKey: string, options: { json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const result = await completeFreeze(contextOf(services), courseKey);
        if (out.json) return out.result(result);
        for (const w of result.warnings) out.note(`warning: ${w}`);
        out.line(
          result.alreadyComplete
            ? `${courseKey} is already marked complete`
            : `${courseKey} is now marked complete (cleared ${result.clearedFailedUsers} failed user(s) from the list)`,
        );
      }),
    );
}
