import 'dotenv/config';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { reportError } from './commands/output.js';
import { OpsError } from './domain/errors.js';

// Entry point: parse argv once, pick the mode once, map errors to exit codes
// (0 success, 1 operational refusal or failure, 2 usage error).

export function buildProgram(): Command {
  const program = new Command('gradeops')
    .description('Run final grades on a MicroMasters-style platform: freeze, diagnose, resync, revert.')
    .showHelpAfterError('(run `gradeops --help` for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const args = argv.slice(2);
  if (args.length === 0) {
    args.push(process.stdout.isTTY ? 'runs' : '--help');
  }
  try {
    await program.parseAsync(['node', 'gradeops', ...args]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return;
      // commander has already printed its message on stderr; in JSON mode scripts get a document too.
      if (args.includes('--json'))
        reportError(new OpsError('usage', error.message.replace(/^error: /, ''), 'see `gradeops --help`'), true, false);
      process.exitCode = 2;
      return;
    }
    process.exitCode = reportError(error, args.includes('--json'), process.env.GRADEOPS_DEBUG === '1');
  }
}

await main(process.argv);
