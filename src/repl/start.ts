import { mkdirSync } from 'node:fs';
import path from 'node:path';
import repl, { type REPLEval, type REPLServer } from 'node:repl';
import vm from 'node:vm';
import type { Knex } from 'knex';
import type { ConsoleSession } from '../app/console-session.js';
import { createCompleter } from './completion.js';
import type { ConsoleContext } from './context.js';
import { defineDotCommands } from './dot-commands.js';
import { createConsoleContext, refuseWrites, allowWrites } from './helpers.js';
import { entryLocation, formatRuntimeError, formatSyntaxError, formatTypeErrors, formatValue } from './print.js';
import { attachSqlLog } from './sql-log.js';
import { EntrySyntaxError, IncompleteEntry, prepareEntry, type PreparedEntry } from './transpile.js';
import type { TypeClient } from './type-client.js';

// The console: node:repl reads lines, keeps history and completes; every entry is transpiled
// (transpile.ts), type-checked against the real declarations (type-client.ts), then run in a vm
// context holding the helpers. Entries run strictly one after another, in the order they were
// read: a pasted block or a piped script hands node:repl many lines at once, and each entry may
// depend on the one before.

export interface ConsoleOptions {
  session: ConsoleSession;
  /** The root knex, whose query events `.sql on` prints (transactions announce theirs there too). */
  knex: Knex;
  types: TypeClient;
  input: NodeJS.ReadableStream;
  output: NodeJS.WriteStream;
  errorOutput: NodeJS.WritableStream;
  /** A terminal: prompt, colours, history, Tab. Piped: none of them, results only. */
  terminal: boolean;
  historyFile?: string;
  debug: boolean;
}

export interface ConsoleHandle {
  server: REPLServer;
  /** Stops taking entries; the running one finishes, queued ones are dropped (SIGTERM). */
  stop(): void;
  /** Resolves once the console has closed and every entry read has finished. */
  closed: Promise<{ failedEntries: number }>;
}

/** The script name of entries in stack traces: how an error is located in the entry. */
const SCRIPT_NAME = 'gradeops-console-entry';

export function promptFor(session: Pick<ConsoleSession, 'mode' | 'where'>): string {
  const mode = session.mode === 'embedded' ? '' : ` ${session.mode}`;
  return `gradeops(${session.where}${mode})> `;
}

function consoleGlobals(helpers: ConsoleContext): Record<string, unknown> {
  return {
    ...helpers,
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    setImmediate,
    clearImmediate,
    queueMicrotask,
    structuredClone,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    Buffer,
    AbortController,
    performance,
    fetch,
  };
}

export function startConsole(options: ConsoleOptions): ConsoleHandle {
  const { session, types, terminal } = options;
  const guard = session.mode === 'read-only' ? refuseWrites(session.where) : allowWrites;
  const helpers = createConsoleContext(session.domain, guard, () => session.prepareEdx());
  const globals = consoleGlobals(helpers);
  const context = vm.createContext({ ...globals });
  const complete = createCompleter(context, types);
  const colors = terminal && (options.output.hasColors?.() ?? false);
  const printOptions = () => ({ colors, width: terminal ? options.output.columns : undefined });

  let failedEntries = 0;
  let checking = true;
  let stopping = false;
  let busy = 0;
  let tail: Promise<void> = Promise.resolve();
  let notedUntyped = false;

  const write = (text: string) => options.output.write(`${text}\n`);
  const fail = (text: string) => {
    failedEntries++;
    options.errorOutput.write(`${text}\n`);
  };

  const server = repl.start({
    prompt: terminal ? promptFor(session) : '',
    input: options.input,
    output: options.output,
    terminal,
    useColors: colors,
    ignoreUndefined: true,
    // Previews would run helpers (and their queries) while the operator types.
    preview: false,
    // Results are printed by the entry queue; node:repl uses the writer only for what fails after
    // its entry ended (a promise nobody awaited, a timer), which it prints after "Uncaught ".
    writer: (error: unknown) => {
      failedEntries++;
      return formatRuntimeError(error, { where: session.where, location: null, debug: options.debug }).replace(/^error: /, '');
    },
    eval: ((cmd, _context, _file, callback) => {
      if (!cmd.trim()) return callback(null, undefined);
      let prepared: PreparedEntry;
      try {
        prepared = prepareEntry(cmd);
      } catch (error) {
        if (error instanceof IncompleteEntry) return callback(new repl.Recoverable(error), undefined);
        const message =
          error instanceof EntrySyntaxError
            ? formatSyntaxError(error)
            : formatRuntimeError(error, { where: session.where, location: null, debug: options.debug });
        enqueue(async () => fail(message));
        return callback(null, undefined);
      }
      enqueue(() => runEntry(prepared));
      // Answered at once: node:repl's multi-line buffer must be settled before it reads the next line.
      callback(null, undefined);
    }) as REPLEval,
    completer: (line: string, callback: (error: Error | null, result: [string[], string]) => void) => {
      completeLine(line).then(
        (result) => callback(null, result),
        () => callback(null, [[], line]),
      );
    },
  });

  // The prompt comes back when the queue is empty; piped, there is never a prompt at all.
  const showPrompt = server.displayPrompt.bind(server);
  server.displayPrompt = (preserveCursor?: boolean) => {
    if (terminal && busy === 0 && !stopping) showPrompt(preserveCursor);
  };

  function enqueue(task: () => Promise<void>): void {
    busy++;
    tail = tail
      .then(() => (stopping ? undefined : task()))
      .catch((error: unknown) => fail(formatRuntimeError(error, { where: session.where, location: null, debug: options.debug })))
      .finally(() => {
        busy--;
        if (busy === 0) server.displayPrompt();
      });
  }

  async function runEntry(prepared: PreparedEntry): Promise<void> {
    if (checking) {
      const diagnostics = await types.check(prepared.source);
      if (diagnostics === null && !notedUntyped) {
        notedUntyped = true;
        options.errorOutput.write(`note: types are unavailable (${types.unavailable() ?? 'unknown reason'}); entries run unchecked\n`);
      }
      if (diagnostics && diagnostics.length > 0) return fail(formatTypeErrors(diagnostics));
    }
    let value: unknown;
    try {
      value = await session.runEntry(async () => {
        const script = new vm.Script(prepared.script, { filename: SCRIPT_NAME });
        return (await script.runInContext(context)) as unknown;
      });
    } catch (error) {
      const location = entryLocation(error, SCRIPT_NAME, prepared.locate);
      return fail(formatRuntimeError(error, { where: session.where, location, debug: options.debug }));
    }
    types.accept(prepared.source);
    if (value !== undefined) write(formatValue(value, printOptions()));
  }

  async function completeLine(line: string): Promise<[string[], string]> {
    const dot = /^\s*\.(\w*)$/.exec(line);
    if (dot) {
      const names = Object.keys(server.commands).filter((n) => n.startsWith(dot[1]));
      return [names.map((n) => `.${n}`), line.trim()];
    }
    const doc = /^\s*\.doc\s+(\w*)$/.exec(line);
    if (doc) return [Object.keys(helpers).filter((n) => n.startsWith(doc[1])), doc[1]];
    const expression = /^\s*\.(?:type|complete)\s+(.*)$/.exec(line);
    return complete(expression ? expression[1] : line);
  }

  let stopSql: (() => void) | null = null;
  defineDotCommands(server, {
    helpers: () => types.helpers(),
    helperNames: Object.keys(helpers),
    run: enqueue,
    write,
    fail,
    typeOf: (expression) => types.typeOf(expression),
    complete: async (text) => {
      const [names, word] = await complete(text);
      return names.map((name) => `${text.slice(0, text.length - word.length)}${name}`);
    },
    sql(on) {
      stopSql?.();
      stopSql = on ? attachSqlLog(options.knex, write) : null;
    },
    check(on) {
      checking = on;
    },
  });

  if (terminal && options.historyFile) {
    const historyFile = options.historyFile;
    try {
      mkdirSync(path.dirname(historyFile), { recursive: true });
      server.setupHistory(historyFile, () => {
        /* a console without history still works */
      });
    } catch {
      /* idem */
    }
  }

  const closed = new Promise<{ failedEntries: number }>((resolve) => {
    server.once('exit', () => {
      // node:repl says exit when input ends, often before the entries it read have run.
      const done = () => {
        stopSql?.();
        resolve({ failedEntries });
      };
      tail.then(done, done);
    });
  });

  return {
    server,
    stop() {
      stopping = true;
      server.close();
    },
    closed,
  };
}
