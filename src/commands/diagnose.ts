import type { Command } from 'commander';
import { diagnoseLearner } from '../domain/diagnosis/diagnose.js';
import { contextOf } from './domain-context.js';
import { runCommand } from './run-command.js';

const MARK = { ok: 'OK  ', warn: 'WARN', fail: 'FAIL', info: 'INFO' } as const;

export function registerDiagnose(program: Command): void {
  program
    .command('diagnose')
    .description('check, in order, why a learner has (or lacks) a final grade in a course run, and say what to do next')
    .argument('<username>', 'MicroMasters username')
    .argument('<course-key>', 'edX course key')
    .option('--json', 'print JSON for scripts')
    .action((username: string, courseKey: string, options: { json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const d = await diagnoseLearner(contextOf(services), username, courseKey);
        if (out.json) return out.result(d);
        out.line(`${username} in ${courseKey}`);
        for (const c of d.checks) out.line(`${MARK[c.outcome]} ${c.label.padEnd(24)} ${c.detail}`);
        out.line(`next: ${d.nextStep}`);
      }),
    );
}
