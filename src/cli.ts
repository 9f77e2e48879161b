import 'dotenv/config';
import type { Command } from 'commander';
import { reportError } from './commands/output.js';
import { OpsError } from './domain/errors.js';

// Entry point: parse argv once, pick the mode once, map errors to exit codes
// (0 success, 1 operational refusal or failure, 2 usage error).
// Modes: no subcommand on a terminal → the console (TUI); no subcommand into a pipe → help (the
// console never draws into a pipe); a subcommand → plain lines, or one JSON document with --json.
// The console and the subcommands are imported lazily, so each mode loads only what it uses.

/** The program with every command listed and only `args`' own command loaded (commands/index.ts). */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  const [{ Command, Help }, { listedTerm, registerCommands, targetCommand }] = await Promise.all([
    import('commander'),
    import('./commands/index.js'),
  ]);
  const program: Command = new Command('gradeops')
    .description('Run final grades on a MicroMasters-style platform: freeze, diagnose, resync, revert.')
    .option('--read-only', 'with no subcommand: open the Ink console with every write action turned off')
    .showHelpAfterError('(run `gradeops --help` for usage)')
    .configureHelp({
      // A command that is only listed has no options or arguments of its own to show.
      subcommandTerm: (cmd: Command): string =>
        (cmd.parent === program ? listedTerm(cmd.name()) : undefined) ?? new Help().subcommandTerm(cmd),
    })
    .exitOverride();
  await registerCommands(program, targetCommand(args));
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

export type Mode = 'tui' | 'help' | 'command';

/** What `gradeops <args>` does, decided once, before anything draws. */
export function pickMode(args: readonly string[], terminal: { stdin: boolean; stdout: boolean }): Mode {
  if (args.some((a) => a !== '--read-only')) return 'command';
  return terminal.stdin && terminal.stdout ? 'tui' : 'help';
}

export async function main(argv: string[]): Promise<void> {
  let args = argv.slice(2);
  // NO_COLOR (no-color.org): chalk does not read it, so the console's colours are turned off here,
  // before Ink and chalk are loaded.
  if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';
  const mode = pickMode(args, { stdin: Boolean(process.stdin.isTTY), stdout: Boolean(process.stdout.isTTY) });
  if (mode === 'tui') {
    const { runConsole } = await import('./commands/tui.js');
    await runConsole({ readOnly: args.includes('--read-only') });
    return;
  }
  if (mode === 'help') args = ['--help'];
  const { CommanderError } = await import('commander');
  const program = await buildProgram(args);
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
