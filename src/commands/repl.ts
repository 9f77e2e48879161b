import path from 'node:path';
import type { Command } from 'commander';
import { openConsoleSession, type ConsoleSession } from '../app/console-session.js';
import { loadConfig } from '../app/config.js';
import { OpsError } from '../domain/errors.js';
import { reportError } from './output.js';
import { runCommand } from './run-command.js';

interface ReplOptions {
  write?: boolean;
  reason?: string;
  sandbox?: boolean;
}

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGTERM: 143, SIGHUP: 129, SIGINT: 130 };

async function askReason(): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question('Why do you need to write? (recorded in the audit log) ')).trim();
  } finally {
    rl.close();
  }
}

function notices(session: ConsoleSession, operator: string): string[] {
  switch (session.mode) {
    case 'read-only':
      return [
        `read-only: the database session on ${session.where} refuses writes; \`gradeops repl --write --reason "…"\` to change data, --sandbox to try changes`,
      ];
    case 'write':
      return [`WRITE: changes to ${session.where} are real; helpers audit them as ${operator}`];
    case 'sandbox':
      return [
        `sandbox: the session runs in one transaction on ${session.where}, rolled back when the console closes`,
        'sandbox: Redis (failed-user lists, locks) and edX / MITx Online (token refreshes) are NOT rolled back',
      ];
    default:
      return [];
  }
}

export function registerRepl(program: Command): void {
  program
    .command('repl')
    .description(
      'a TypeScript console with the domain preloaded and typed (read-only on a real database unless --write; piped stdin runs a script)',
    )
    .option('--write', 'allow writes on a real database; asks why (recorded in the audit log)')
    .option('--reason <text>', 'why --write is needed, without asking (required when stdin is not a terminal)')
    .option('--sandbox', 'run the whole session in one transaction rolled back on exit (Redis and edX side effects are not)')
    .action(async (options: ReplOptions) => {
      const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
      const usage = (message: string, hint: string) => {
        process.exitCode = reportError(new OpsError('usage', message, hint), false, false);
      };
      if (options.write && options.sandbox) return usage('--write and --sandbox exclude each other', 'choose one');
      if (options.reason !== undefined && !options.write) return usage('--reason goes with --write', 'add --write, or drop --reason');
      let reason = options.reason?.trim();
      if (options.write && options.reason !== undefined && !reason) return usage('--reason is empty', 'say why you need to write');
      let embedded = true;
      try {
        embedded = loadConfig().mode === 'embedded';
      } catch {
        /* runCommand reports the configuration error */
      }
      if (options.write && !embedded && !reason && !process.stdin.isTTY) {
        return usage('--write needs a reason', 'pass --reason "…" when stdin is not a terminal (it goes into the audit log)');
      }

      // Loading typescript and the first program takes seconds on a thread of its own. A script
      // needs it for its first entry: start it now, beside the database. On a terminal, start it
      // once the prompt is up, so it takes no CPU from the start-up; the operator is typing then.
      const { createTypeClient } = await import('../repl/type-client.js');
      const types = createTypeClient();
      if (!terminal) types.start();
      try {
        await runCommand(
          {},
          async (services, out) => {
            if (options.write && !services.embedded && !reason) {
              reason = await askReason();
              if (!reason) throw new OpsError('usage', 'a writing console needs a reason', 'say why; it goes into the audit log');
            }
            const session = await openConsoleSession(services, {
              sandbox: options.sandbox,
              write: options.write,
              reason,
              lazySimulator: true,
            });
            const { startConsole } = await import('../repl/start.js');
            try {
              for (const line of notices(session, services.operator)) out.note(line);
              if (terminal) out.note('.help lists the helpers and commands; .exit or Ctrl-D leaves');
              const handle = startConsole({
                session,
                knex: services.db,
                types,
                input: process.stdin,
                output: process.stdout,
                errorOutput: process.stderr,
                terminal,
                historyFile: path.join(services.config.dataDir, 'repl_history'),
                debug: services.config.debug,
              });
              if (terminal) setImmediate(() => types.start());
              const signals: NodeJS.Signals[] = terminal ? ['SIGTERM', 'SIGHUP'] : ['SIGTERM', 'SIGHUP', 'SIGINT'];
              const onSignal = (signal: NodeJS.Signals) => {
                process.exitCode = SIGNAL_EXIT[signal] ?? 1;
                handle.stop();
              };
              for (const s of signals) process.once(s, onSignal);
              const { failedEntries } = await handle.closed;
              for (const s of signals) process.off(s, onSignal);
              // A script learns that an entry failed; an interactive session ends normally.
              if (!terminal && failedEntries > 0 && !process.exitCode) return 1;
            } finally {
              await session.close();
            }
          },
          // The simulated edX of the embedded demo starts when a helper first calls it (console-session.ts).
          { readOnly: !options.write && !options.sandbox, simulator: false },
        );
      } finally {
        await types.close();
      }
    });
}
