import type { Command } from 'commander';
import { targetLabel } from '../app/target.js';
import { OpsError } from '../domain/errors.js';
import { drawSplash, enterConsoleScreen, operatorGuess, ProgressBuffer, restoreTerminal } from '../screens/terminal.js';
import { reportError } from './output.js';

// `gradeops tui` (and `gradeops` with no subcommand on a terminal): the Ink console. Its modules
// are imported only here, so plain and --json commands never load React.
//
// Start-up order, so the console answers at once (issue #7): the first frame is drawn in plain
// escapes; the configuration is read; the services start opening (PGlite compiles its WebAssembly
// on other threads); meanwhile Ink and the screens are loaded and take over the frame.

export async function runConsole(options: { readOnly?: boolean }): Promise<void> {
  let debug = process.env.GRADEOPS_DEBUG === '1';
  try {
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw new OpsError(
        'usage',
        'the console needs a terminal (stdin and stdout), and this is a pipe or a file',
        'run it in a terminal, or use a subcommand (`gradeops --help` lists them)',
      );
    }
    // React and its reconciler in their production builds: a third of the time to the first Ink frame.
    process.env.NODE_ENV ??= 'production';
    const readOnlyFlag = Boolean(options.readOnly) || /^(1|true|yes|on)$/i.test(process.env.GRADEOPS_READ_ONLY?.trim() ?? '');
    enterConsoleScreen();
    drawSplash({
      target: targetLabel({ mode: process.env.DATABASE_URL ? 'postgres' : 'embedded', databaseUrl: process.env.DATABASE_URL }),
      operator: operatorGuess(),
      readOnly: readOnlyFlag,
    });
    let config;
    try {
      const { loadConfig } = await import('../app/config.js');
      config = loadConfig();
      debug = config.debug;
    } catch (error) {
      restoreTerminal();
      throw error;
    }
    const progress = new ProgressBuffer();
    const opening = import('../app/services.js').then(({ buildServices }) => buildServices(config, { onProgress: progress.push }));
    opening.catch(() => {}); // the console shows the failure; this only keeps it from being "unhandled" meanwhile
    const { startConsole } = await import('../screens/start.js');
    const code = await startConsole({ config, readOnly: Boolean(options.readOnly) || config.readOnly, opening, progress });
    if (code !== 0) process.exitCode = code;
  } catch (error) {
    restoreTerminal();
    process.exitCode = reportError(error, false, debug);
  }
}

export function registerTui(program: Command): void {
  program
    .command('tui')
    .description('open the Ink console: course runs, live freezes, learners, resync and revert, driven by keys')
    .option('--read-only', 'offer no write action (also GRADEOPS_READ_ONLY=1)')
    .action((options: { readOnly?: boolean }) => runConsole(options));
}
