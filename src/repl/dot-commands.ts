import type { REPLServer } from 'node:repl';
import type { HelperDoc } from './types.js';

// The console's dot-commands. Each runs in the entry queue, so `.type n` right after
// `const n = …` (pasted or piped together) sees n.

export interface DotCommandDeps {
  helpers(): Promise<HelperDoc[] | null>;
  helperNames: string[];
  run(task: () => Promise<void>): void;
  write(text: string): void;
  fail(text: string): void;
  typeOf(expression: string): Promise<string | null>;
  complete(text: string): Promise<string[]>;
  sql(on: boolean): void;
  check(on: boolean): void;
}

export const DOT_COMMANDS: Array<[name: string, usage: string, help: string]> = [
  ['help', '.help', 'the helpers, with their signatures, and these commands'],
  ['doc', '.doc <helper>', "a helper's whole description and the types of its arguments"],
  ['type', '.type <expression>', 'the TypeScript type of an expression (earlier entries included), without running it'],
  ['complete', '.complete <text>', 'what Tab would offer at the end of <text>, one per line'],
  ['sql', '.sql on|off', 'print every SQL statement with its duration'],
  ['check', '.check on|off', 'type-check each entry before running it (on by default)'],
  ['break', '.break', 'abandon the entry being typed over several lines'],
  ['editor', '.editor', 'type a longer entry in editor mode (Ctrl-D runs it)'],
  ['exit', '.exit', 'close the console (Ctrl-D too): connections close, a sandbox is rolled back'],
];

function onOff(value: string): boolean | null {
  const v = value.trim().toLowerCase();
  return v === 'on' ? true : v === 'off' ? false : null;
}

export function defineDotCommands(server: REPLServer, deps: DotCommandDeps): void {
  // node:repl's .clear resets a context the console does not use; .load and .save stay.
  const commands = server.commands as Record<string, unknown>;
  delete commands.clear;

  const define = (name: string, action: (rest: string) => Promise<void>) => {
    const help = DOT_COMMANDS.find(([n]) => n === name)?.[2] ?? '';
    server.defineCommand(name, { help, action: (rest: string) => deps.run(() => action(rest)) });
  };

  define('help', async () => {
    const helpers = await deps.helpers();
    const lines = ['Helpers (await them; a user is a username, email, id or user(…); a run is a course key or run(…)):'];
    if (helpers) for (const h of helpers) lines.push(`  ${h.signature}`, `      ${h.summary}`);
    else lines.push(`  ${deps.helperNames.join(', ')}  (signatures unavailable: types did not load)`);
    lines.push('', 'Commands:');
    const width = Math.max(...DOT_COMMANDS.map(([, usage]) => usage.length));
    for (const [, usage, help] of DOT_COMMANDS) lines.push(`  ${usage.padEnd(width)}  ${help}`);
    deps.write(lines.join('\n'));
  });

  define('doc', async (rest) => {
    const name = rest.trim().replace(/\(.*$/, '');
    const helpers = await deps.helpers();
    const helper = helpers?.find((h) => h.name === name);
    if (!name) return deps.fail('error: .doc needs a helper name, e.g. `.doc freezeUser`; .help lists them');
    if (!helper) {
      return deps.fail(
        helpers ? `error: no helper is named ${name}; .help lists them` : 'error: descriptions are unavailable: types did not load',
      );
    }
    deps.write([helper.signature, '', helper.description, ...(helper.notes.length ? ['', ...helper.notes] : [])].join('\n'));
  });

  define('type', async (rest) => {
    if (!rest.trim()) return deps.fail('error: .type needs an expression, e.g. `.type run(key)`');
    let type: string | null;
    try {
      type = await deps.typeOf(rest);
    } catch (error) {
      return deps.fail(`error: types are unavailable: ${(error as Error).message}`);
    }
    if (type === null) deps.fail(`error: \`${rest.trim()}\` is not an expression`);
    else deps.write(type);
  });

  define('complete', async (rest) => {
    const names = await deps.complete(rest);
    deps.write(names.length ? names.join('\n') : '(no completions)');
  });

  define('sql', async (rest) => {
    const on = onOff(rest);
    if (on === null) return deps.fail('error: write `.sql on` or `.sql off`');
    deps.sql(on);
    deps.write(on ? 'SQL statements are printed with their duration' : 'SQL statements are no longer printed');
  });

  define('check', async (rest) => {
    const on = onOff(rest);
    if (on === null) return deps.fail('error: write `.check on` or `.check off`');
    deps.check(on);
    deps.write(on ? 'entries are type-checked before they run' : 'entries run without a type check');
  });
}
