import { render } from 'ink';
import type { Config } from '../app/config.js';
import { Lifecycle } from '../app/lifecycle.js';
import type { Services } from '../app/services.js';
import { targetLabel } from '../app/target.js';
import { App } from './App.js';
import { lineDiffStdout } from './line-diff-stdout.js';
import { enterConsoleScreen, restoreTerminal, type ProgressBuffer } from './terminal.js';

// The console's process frame: the first frame goes out before anything heavy is loaded (the
// database layer is imported after it), every way out restores the terminal (raw mode off,
// cursor visible, the main screen back), and leaving always runs the ordered shutdown.

export interface ConsoleOptions {
  config: Config;
  readOnly: boolean;
  /** The services, already opening (commands/tui.ts starts them before Ink is loaded). */
  opening: Promise<Services>;
  progress: ProgressBuffer;
}

/** Runs the console until the operator leaves; resolves with the process exit code. */
export async function startConsole({ config, readOnly, opening, progress }: ConsoleOptions): Promise<number> {
  const stdout = process.stdout;
  const lifecycle = new Lifecycle();
  enterConsoleScreen();
  // Ink draws through a stream that writes only the rows that changed (line-diff-stdout.ts).
  const screen = lineDiffStdout(stdout);
  const onResize = () => screen.invalidate();
  stdout.on('resize', onResize);
  let exitCode = 0;
  const instance = render(
    <App
      connect={(onProgress) => {
        progress.listen(onProgress);
        return opening;
      }}
      target={targetLabel(config)}
      operator={config.operator}
      readOnly={readOnly}
      lifecycle={lifecycle}
      concurrency={config.concurrency}
      onExit={(reason) => {
        if (reason === 'interrupt') exitCode = 130;
      }}
    />,
    { stdout: screen.stream, exitOnCtrlC: false, patchConsole: true },
  );

  // Every way out but q goes through here once: stop the jobs started here (resumable), close the
  // services, exit. A hard deadline makes sure a stuck shutdown still ends the process.
  let leaving = false;
  const leave = (code: number, options: { terminalGone?: boolean; error?: unknown } = {}) => {
    if (leaving) return;
    leaving = true;
    setTimeout(() => process.exit(code), 15_000);
    try {
      instance.unmount();
    } catch {
      /* Ink is what failed */
    }
    if (!options.terminalGone) {
      restoreTerminal();
      if (options.error !== undefined) {
        const error = options.error instanceof Error ? options.error : new Error(JSON.stringify(options.error) ?? 'unknown error');
        process.stderr.write(
          `gradeops: the console stopped on an unexpected error: ${error.message}${
            config.debug && error.stack ? `\n${error.stack}` : ' (GRADEOPS_DEBUG=1 shows the details)'
          }\n`,
        );
      }
    }
    lifecycle
      .shutdown({ waitMs: 10_000 })
      .catch(() => {})
      .finally(() => process.exit(code));
  };
  const crash = (error: unknown) => leave(1, { error });
  const terminate = () => leave(143);
  const hangUp = () => leave(129, { terminalGone: true });
  // The terminal went away (EIO, EPIPE): nothing is left to draw on, and no write may throw.
  stdout.on('error', hangUp);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  process.on('SIGTERM', terminate);
  process.on('SIGHUP', hangUp);

  try {
    await instance.waitUntilExit();
  } catch (error) {
    crash(error);
    return 1;
  }
  if (leaving) return new Promise<number>(() => {}); // leave() exits the process
  restoreTerminal();
  stdout.off('resize', onResize);
  await lifecycle.shutdown();
  process.off('SIGTERM', terminate);
  process.off('SIGHUP', hangUp);
  process.off('uncaughtException', crash);
  process.off('unhandledRejection', crash);
  return exitCode;
}
