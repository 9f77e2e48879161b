import type { Command } from 'commander';
import { loadConfig } from '../app/config.js';
import { OpsError } from '../domain/errors.js';
import { reportError } from './output.js';

// `gradeops tui` (and `gradeops` with no subcommand on a terminal): the Ink console. Its modules
// are imported only here, so plain and --json commands never load React.

export async function runConsole(options: { readOnly?: boolean }): Promise<void> {
  let debug = false;
  try {
    const config = loadConfig();
    debug = config.debug;
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw new OpsError(
        'usage',
        'the console needs a terminal (stdin and stdout), and this is a pipe or a file',
        'run it in a terminal, or use a subcommand (`gradeops --help` lists them)',
      );
    }
    const { startConsole } = await import('../screens/start.js');
    const code = await startConsole({ config, readOnly: Boolean(options.readOnly) || config.readOnly });
    if (code !== 0) process.exitCode = code;
  } catch (error) {
    process.exitCode = reportError(error, false, debug);
  }
}

export function registerTui(program: Command): void {
  program
    .command('tui')
    .description('open the console: course runs, live freezes, learners, resync and revert, driven by keys')
    .option('--read-only', 'offer no write action (also GRADEOPS_READ_ONLY=1)')
    .action((options: { readOnly?: boolean }) => runConsole(options));
}
